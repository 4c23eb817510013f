/** The store contract on the embedded store, on a real Postgres database of this file's own. */
import { openPostgresStore } from './helpers.js';
import { storeContract } from './store-contract.js';

storeContract('postgres', openPostgresStore);
