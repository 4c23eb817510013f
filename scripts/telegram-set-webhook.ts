/** `npm run telegram:set-webhook`: point Telegram at TELEGRAM_WEBHOOK_URL with TELEGRAM_WEBHOOK_SECRET. */
import { setTelegramWebhook } from '../adapters/telegram/webhook.js';
import { loadConfig } from '../src/config/env.js';

const config = loadConfig();
if (!config.TELEGRAM_BOT_TOKEN || !config.TELEGRAM_WEBHOOK_URL || !config.TELEGRAM_WEBHOOK_SECRET) {
  console.error(
    'set TELEGRAM_BOT_TOKEN, TELEGRAM_WEBHOOK_URL (https://your.host/telegram/webhook) and TELEGRAM_WEBHOOK_SECRET',
  );
  process.exit(2);
}
setTelegramWebhook({
  token: config.TELEGRAM_BOT_TOKEN,
  url: config.TELEGRAM_WEBHOOK_URL,
  secret: config.TELEGRAM_WEBHOOK_SECRET,
  apiRoot: config.TELEGRAM_API_ROOT,
}).then(
  () => console.log(`telegram webhook set to ${config.TELEGRAM_WEBHOOK_URL}`),
  (err: Error) => {
    console.error(`setWebhook failed: ${err.message}`);
    process.exit(1);
  },
);
