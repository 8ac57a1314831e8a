// ESLint for both front ends, the field app (ui/) and the supervisors' dashboard
// (sync-server/dashboard/): one config, run from the repository root (`npm run lint`, and
// scripts/test). Formatting is Prettier's (.prettierrc.json); eslint-config-prettier turns off
// the rules that would argue with it. Generated files are not linted: the Rust types' ts-rs
// bindings and the dashboard's OpenAPI types.
import js from '@eslint/js'
import { defineConfig, globalIgnores } from 'eslint/config'
import prettier from 'eslint-config-prettier'
import vue from 'eslint-plugin-vue'
import globals from 'globals'
import tseslint from 'typescript-eslint'

export default defineConfig([
  globalIgnores([
    '**/dist/',
    '**/node_modules/',
    'ui/src/bindings/',
    'sync-server/dashboard/src/openapi.ts',
  ]),
  {
    files: ['**/*.{js,mjs,ts,vue}'],
    extends: [js.configs.recommended, tseslint.configs.recommended, vue.configs['flat/recommended']],
    languageOptions: { globals: globals.browser },
    rules: {
      // Views are named after their screen (Home, Leave, Visit), as the router names them.
      'vue/multi-word-component-names': 'off',
    },
  },
  {
    files: ['**/*.vue'],
    languageOptions: { parserOptions: { parser: tseslint.parser } },
  },
  {
    // Node, not the browser: build configs and the dashboard's end-to-end test.
    files: ['**/vite.config.ts', 'sync-server/dashboard/tests/**'],
    languageOptions: { globals: globals.node },
  },
  prettier,
])
