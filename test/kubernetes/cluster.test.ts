// Every test that needs the real cluster, in one file so they run one after another: the last one
// stops the API server, which no other test may be using at that moment.
import './exec-jobs.js';
import './processors.js';
import './api-lost.js';
