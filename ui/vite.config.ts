import { defineConfig } from 'vitest/config'
import vue from '@vitejs/plugin-vue'

// Tauri serves the built files; tests run in jsdom.
export default defineConfig({
  plugins: [vue()],
  clearScreen: false,
  build: { target: 'es2021', outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 2000 },
  test: { environment: 'jsdom', include: ['tests/**/*.test.ts'] },
})
