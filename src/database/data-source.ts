import 'reflect-metadata';
import { DataSource, DataSourceOptions } from 'typeorm';
import { ENTITIES } from './entities.js';
import { MIGRATIONS } from './migrations/index.js';

export function dataSourceOptions(url: string): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    entities: ENTITIES,
    // Listed, not globbed: the same classes load under Node, the CLI and Jest's ESM runtime.
    migrations: MIGRATIONS,
    uuidExtension: 'pgcrypto',
    migrationsRun: false,
    synchronize: false,
    extra: { max: 10 },
  };
}

/** Used by the TypeORM CLI (`npm run migration:*`), which reads DATABASE_URL from the environment. */
export default new DataSource(
  dataSourceOptions(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/loa'),
);
