export { startAcmeOrderer, ACME_ORDERER_JOB } from './orderer.ts';
export type { AcmeOrderer, AcmeOrdererOptions, OrdererRound } from './orderer.ts';
export { acmeClient } from './acme-account.ts';
export type { AcmeClientOptions } from './acme-account.ts';
