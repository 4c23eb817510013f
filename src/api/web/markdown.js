// Markdown for the web chat: `marked` turns the agent's answer into HTML, DOMPurify sanitises it before it touches
// the page. The text is model output, so it is untrusted: raw HTML in it is shown as text (never parsed), and the
// sanitiser strips what could still run (event handler attributes, javascript: URLs, script/style/form elements).
// Called again on every streamed update, so the answer renders as it is written: an open code fence is closed
// for the view (the block grows in place instead of the rest of the answer turning into code later).
import { Marked } from './vendor/marked.js';
import DOMPurify from './vendor/purify.js';

const escapeHtml = (s) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

const marked = new Marked({
  gfm: true,
  breaks: true,
  renderer: {
    // Block and inline raw HTML alike: shown as the characters the model wrote.
    html: ({ text }) => escapeHtml(text),
  },
});

DOMPurify.addHook('afterSanitizeAttributes', (node) => {
  // Links open elsewhere and leak nothing about this page.
  if (node.tagName === 'A' && node.hasAttribute('href')) {
    node.setAttribute('target', '_blank');
    node.setAttribute('rel', 'noopener noreferrer nofollow');
  }
});

const PURIFY = {
  USE_PROFILES: { html: true },
  FORBID_TAGS: ['style', 'form', 'input', 'button', 'textarea', 'select', 'option'],
  FORBID_ATTR: ['style'],
};

/** An odd number of fence lines: the last block is still being written. */
export function closeOpenFence(text) {
  const fences = text.match(/^\s*(```|~~~)/gm)?.length ?? 0;
  return fences % 2 ? `${text}${text.endsWith('\n') ? '' : '\n'}\`\`\`\n` : text;
}

/** The answer as sanitised HTML, ready for innerHTML. */
export function markdownToHtml(text) {
  const html = marked.parse(closeOpenFence(text), { async: false });
  return DOMPurify.sanitize(html, PURIFY).trim();
}

/** Renders `text` into `el` (replacing what it showed). */
export function renderMarkdown(el, text) {
  el.innerHTML = markdownToHtml(text);
}
