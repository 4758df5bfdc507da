// Lint rules: the recommended sets of ESLint and typescript-eslint, type-aware, over every
// TypeScript file we compile. Generated output and dependencies are ignored.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.procctl/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // import() types name lazily loaded modules without loading them at start-up.
      '@typescript-eslint/consistent-type-imports': ['error', { disallowTypeAnnotations: false }],
      'no-console': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: globals.node },
  },
  {
    // The web view's page script runs in the browser.
    files: ['ui/**/*.js'],
    languageOptions: { globals: globals.browser },
  },
);
