// Approval prompts in the web chat: a tool the agent wants to run waits for a person's OK (the run ended as a
// LangGraph interrupt). The prompt names the tool and its arguments with Approve / Reject; a click resumes the
// run through the agent API (command.resume), and its answer takes the prompt's place.

/** The interrupt a run's final values or a thread's state carry, if the thread waits for a decision. */
export function pendingInterrupt(valuesOrState) {
  const list = valuesOrState?.__interrupt__ || valuesOrState?.interrupts || [];
  return list.find((i) => i?.value?.approval_id) || null;
}

/** Appends the prompt to `container`; `decide(approved)` runs when a button is clicked (both disabled then). */
export function showApproval(container, interrupt, decide) {
  const v = interrupt.value;
  const card = document.createElement('div');
  card.className = 'msg msg-approval';
  card.dataset.approval = v.approval_id;
  const title = document.createElement('p');
  const strong = document.createElement('strong');
  strong.textContent = 'Approval needed';
  const tool = document.createElement('code');
  tool.textContent = v.tool;
  title.append(strong, ': the agent wants to run ', tool);
  card.append(title);
  const args = typeof v.args === 'string' ? v.args : JSON.stringify(v.args, null, 2);
  if (args && args !== '{}') {
    const pre = document.createElement('pre');
    pre.textContent = args;
    card.append(pre);
  }
  const expires = document.createElement('p');
  expires.className = 'approval-expiry';
  expires.textContent = `Waiting for your decision until ${new Date(v.expires_at).toLocaleTimeString()}.`;
  const buttons = document.createElement('div');
  buttons.className = 'approval-buttons';
  for (const [label, approved] of [
    ['Approve', true],
    ['Reject', false],
  ]) {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = approved ? 'approve' : 'reject';
    b.textContent = label;
    b.addEventListener('click', () => {
      for (const x of buttons.querySelectorAll('button')) x.disabled = true;
      decide(approved);
    });
    buttons.append(b);
  }
  card.append(expires, buttons);
  container.append(card);
  card.scrollIntoView({ block: 'end' });
  return card;
}
