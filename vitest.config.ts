import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'guests/**/*.test.ts', 'bin/**/*.test.ts', 'eslint/**/*.test.js'],
    globalSetup: ['./vitest.setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
