import js from '@eslint/js'
import {createTypeScriptImportResolver} from 'eslint-import-resolver-typescript'
import importX from 'eslint-plugin-import-x'
import tseslint from 'typescript-eslint'

/**
 * The layers of src/, lowest first. A layer may import only from layers
 * below it: commands → cli → services → stores → (net, integrity) → core.
 * net and integrity are siblings and stay apart.
 */
const LAYERS = ['core', 'net', 'integrity', 'stores', 'services', 'cli', 'commands']
const SIBLINGS = {net: ['integrity'], integrity: ['net']}
const SERVICES = ['fetch', 'upload', 'copy', 'verify', 'lock']

const layerZones = LAYERS.map((layer, index) => ({
  target: `./src/${layer}`,
  from: [...new Set([...LAYERS.slice(index + 1), ...(SIBLINGS[layer] ?? [])])].map((above) => `./src/${above}`),
  message: `src/${layer} must not import from a layer above it (order: ${LAYERS.join(' < ')}).`,
})).filter((zone) => zone.from.length > 0)

const serviceZones = [
  ...SERVICES.map((service) => ({
    target: `./src/services/${service}`,
    from: SERVICES.filter((other) => other !== service).map((other) => `./src/services/${other}`),
    message: 'A service does not import another service: share code through src/services/shared or a lower layer.',
  })),
  {target: './src/services/shared', from: SERVICES.map((service) => `./src/services/${service}`), message: 'Shared service code does not depend on one service.'},
  {target: './src/stores/*.ts', from: './src/stores/ops', message: 'Store backends sit below src/stores/ops, which builds on them.'},
]

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
            "ImportDeclaration[importKind!='type'][source.value=/^(@google-cloud\\/storage|@aws-sdk\\/client-s3|@azure\\/storage-blob|@azure\\/identity|undici|ora|execa)$/]",
        },
      ],
    },
  },
  {
    files: ['src/**/*.ts'],
    plugins: {'import-x': importX},
    settings: {
      'import-x/extensions': ['.ts'],
      'import-x/parsers': {'@typescript-eslint/parser': ['.ts']},
      'import-x/resolver-next': [createTypeScriptImportResolver({project: './tsconfig.json'})],
    },
    rules: {
      'import-x/no-cycle': 'error',
      'import-x/no-restricted-paths': ['error', {zones: [...layerZones, ...serviceZones]}],
      'no-restricted-properties': [
        'error',
        {object: 'process', property: 'env', message: 'Only src/core/config.ts reads the environment: add a setting there.'},
      ],
    },
  },
  {
    files: ['src/core/config.ts'],
    rules: {'no-restricted-properties': 'off'},
  },
)
