import { createApp } from 'vue'
import Vant from 'vant'
import 'vant/lib/index.css'
import App from './App.vue'
import { i18n } from './i18n'
import { router } from './router'
import './app.css'

createApp(App).use(Vant).use(i18n).use(router).mount('#app')
