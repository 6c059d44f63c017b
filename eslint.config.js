// ESLint flat config: typescript-eslint's strictTypeChecked over the TypeScript sources (type-aware, using
// tsconfig.json), eslint's recommended rules over the few plain .mjs scripts. Each rule turned off or down says why.
import { defineConfig } from 'eslint/config';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default defineConfig(
  { ignores: ['dist/**', 'build/**', '.cache/**', 'node_modules/**'] },
  js.configs.recommended,
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.strictTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // node:test's test()/describe() return promises the runner itself awaits; awaiting them is not the idiom.
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite'] }] },
      ],
      // Numbers print exactly, and an absent value (an exit code of null, a missing header) printing as null or
      // undefined is what a diagnostic message should show; objects, booleans, any and never stay errors.
      '@typescript-eslint/restrict-template-expressions': [
        'error',
        { allowNumber: true, allowNullish: true, allowAny: false, allowBoolean: false, allowNever: false, allowRegExp: false },
      ],
      // With noUncheckedIndexedAccess, `!` marks an index a loop bound or a matched regex group already proves;
      // rewriting each of ~380 sites into an unreachable branch would add code, not safety.
      '@typescript-eslint/no-non-null-assertion': 'off',
      // Data read from disk, the network or a test's before() hook is typed as what it should be and then checked
      // anyway (no bad input crashes the process; after() runs when before() failed): the rule reads those checks as dead.
      '@typescript-eslint/no-unnecessary-condition': 'off',
      // Same reason: String()/Number() around fields of a recording read back from disk guard against a malformed file.
      '@typescript-eslint/no-unnecessary-type-conversion': 'off',
      // `const { secret: _dropped, ...rest } = x` is how a field is left out of a copy.
      '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true }],
      // `async` on a function that implements a Promise-returning port (a bus, a fake lookup) turns a synchronous
      // throw into the rejection its caller handles, with or without an await inside.
      '@typescript-eslint/require-await': 'off',
      // Flags casts of sockets http-mitm-proxy hands over as Duplex, and the Datadog client's request bodies, which
      // its typings declare as classes while plain objects are the documented input.
      '@typescript-eslint/no-unsafe-class-instance-assignment': 'off',
      // Re-throwing or rejecting with a caught `unknown` passes the original error on unchanged.
      '@typescript-eslint/only-throw-error': ['error', { allowThrowingUnknown: true, allowThrowingAny: false }],
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingUnknown: true }],
      // A `let` that a callback declared above reads, assigned once further down, cannot be a const.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      // `() => resolve()` and `return send(...)` in a void callback are the Node callback idiom, not confusion.
      '@typescript-eslint/no-confusing-void-expression': ['error', { ignoreArrowShorthand: true, ignoreVoidReturningFunctions: true }],
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // Fixtures hand out plain objects of closures (fill, freeAll, stop) whose types are written as methods.
      '@typescript-eslint/unbound-method': 'off',
      // Tests drop one named claim or field to see its absence refused.
      '@typescript-eslint/no-dynamic-delete': 'off',
    },
  },
  {
    // node-forge types a context-specific ASN.1 tag as asn1.Type, an enum of the universal tags only.
    files: ['certs/**/*.ts', 'test/unit/certs/**/*.ts'],
    rules: { '@typescript-eslint/no-unsafe-enum-assignment': 'off', '@typescript-eslint/no-unsafe-enum-comparison': 'off' },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    // The Node globals these scripts use (the globals package is not a dependency).
    languageOptions: { globals: { process: 'readonly', Buffer: 'readonly', console: 'readonly' } },
  },
);
