import js from '@eslint/js'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  {ignores: ['dist/**', 'node_modules/**', 'oclif.manifest.json', 'bench/results/**', 'bench/.cache/**', '.demo/**']},
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    languageOptions: {globals: {process: 'readonly', console: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', URL: 'readonly', AbortSignal: 'readonly', AbortController: 'readonly', performance: 'readonly', NodeJS: 'readonly'}},
    rules: {
      // Regex groups and bounded indexes under noUncheckedIndexedAccess need it.
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unused-vars': ['error', {argsIgnorePattern: '^_', varsIgnorePattern: '^_'}],
      'no-restricted-syntax': [
        'error',
        {
          message: 'Heavy packages are imported lazily (await import()) inside the code path that needs them.',
          selector:
            "ImportDeclaration[importKind!='type'][source.value=/^(@google-cloud\\/storage|@aws-sdk\\/client-s3|@aws-sdk\\/lib-storage|@azure\\/storage-blob|undici|ora|execa)$/]",
        },
      ],
    },
  },
)
