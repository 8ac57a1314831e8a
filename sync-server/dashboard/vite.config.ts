import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'

// Served by the sync server under /dashboard/ (see sync-server/src/http/dashboard.rs).
export default defineConfig({
  base: '/dashboard/',
  plugins: [vue()],
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 1200 },
})
