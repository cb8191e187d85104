// One lint config for every project; type-unaware rules keep `nx lint` fast on 2 cores.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/.nx/**', '**/out-tsc/**', 'data/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    // A lib's public values leave as `export import` aliases: docs/architecture.md, "Decisions".
    files: ['libs/*/src/index.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector:
            "ExportNamedDeclaration[source][exportKind='value'] > ExportSpecifier[exportKind='value']",
          message:
            'Re-export values as `export import x = module.x` (a plain property), not `export { x } from`.',
        },
        {
          selector: "ExportAllDeclaration[exportKind='value']",
          message:
            'Re-export values as `export import x = module.x` (a plain property), not `export * from`.',
        },
      ],
    },
  },
);
