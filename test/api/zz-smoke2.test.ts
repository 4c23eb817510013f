import { describe, it } from 'vitest';
import { startApiApp } from './helpers.js';
describe('smoke2', () => {
  it('closes', async () => {
    const app = await startApiApp();
    console.log('STARTED');
    const t0 = Date.now();
    await app.close();
    console.log('CLOSED', Date.now() - t0);
  });
});
