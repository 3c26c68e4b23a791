/** Jest runs in its native ESM mode: NestJS 12 ships ESM only. See README "Tests". */
export default {
  testEnvironment: 'node',
  rootDir: '.',
  roots: ['<rootDir>/src', '<rootDir>/test', '<rootDir>/devices-sim'],
  testRegex: '.*\\.(spec|e2e-spec)\\.ts$',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json', diagnostics: false }],
  },
  globalSetup: '<rootDir>/test/support/global-setup.mjs',
  globalTeardown: '<rootDir>/test/support/global-teardown.mjs',
  testTimeout: 60_000,
  maxWorkers: 2,
  // Jest's default of 500 ms is shorter than a worker takes to tear down its last e2e file on
  // this 2-core box (~1 GB heap, both cores busy): the worker was force-killed and Jest
  // printed its "failed to exit gracefully" leak warning with only stdio and IPC pipes left
  // open. A real leak (a ref'd socket or timer) still keeps a worker alive past 10 s, and
  // still gets the warning.
  workerGracefulExitTimeout: 10_000,
};
