// Plain JavaScript: Jest loads global setup outside its module system, where the TypeScript
// sources cannot be imported. It only fixes the run id; the first test file to need a
// database migrates the run's template (test/support/databases.ts, ensureTemplate).
export default async function globalSetup() {
  process.env.LOA_TEST_RUN_ID ??= `${process.pid}`;
}
