import { describePostgres, dropSchema, uniquePostgresUrl } from '../support/postgres.js';
import { describeConformance } from './conformance.js';

describePostgres('postgres', () => {
  describeConformance({
    name: 'postgres',
    makeUrl: () => uniquePostgresUrl('conf'),
    cleanup: async (url) => dropSchema(url),
  });
});
