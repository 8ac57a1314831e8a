import { createRouter, createWebHashHistory } from 'vue-router'
import { state, loadState } from './store'

const routes = [
  { path: '/', redirect: '/home' },
  { path: '/unlock', component: () => import('./views/Unlock.vue') },
  { path: '/login', component: () => import('./views/Login.vue') },
  { path: '/home', component: () => import('./views/Home.vue'), meta: { tab: true } },
  { path: '/checkin', component: () => import('./views/CheckIn.vue') },
  { path: '/leave', component: () => import('./views/Leave.vue') },
  { path: '/team/leave/:id', component: () => import('./views/TeamLeave.vue') },
  { path: '/team/log/:id', component: () => import('./views/TeamLog.vue') },
  { path: '/households', component: () => import('./views/Households.vue'), meta: { tab: true } },
  { path: '/household/:id', component: () => import('./views/Household.vue') },
  { path: '/visit/:household', component: () => import('./views/Visit.vue') },
  { path: '/delivery/:entitlement', component: () => import('./views/Delivery.vue') },
  { path: '/worklog', component: () => import('./views/WorkLog.vue') },
  { path: '/mylog', component: () => import('./views/MyLog.vue'), meta: { tab: true } },
  { path: '/conflicts', component: () => import('./views/Conflicts.vue') },
  { path: '/petition/new', component: () => import('./views/PetitionForm.vue') },
  { path: '/petitions', component: () => import('./views/Petitions.vue') },
  { path: '/status-change/:household', component: () => import('./views/StatusChange.vue') },
  { path: '/projects', component: () => import('./views/Projects.vue') },
  { path: '/inspection', component: () => import('./views/Inspection.vue') },
  { path: '/survey/:household', component: () => import('./views/Survey.vue') },
  { path: '/feedback', component: () => import('./views/Feedback.vue') },
]

export const router = createRouter({ history: createWebHashHistory(), routes })

let loaded = false
router.beforeEach(async (to) => {
  if (!loaded) {
    await loadState()
    loaded = true
  }
  // The store is encrypted with the PIN: nothing else can show before it is open.
  if (state.lock !== 'open') return to.path === '/unlock' ? true : '/unlock'
  if (!state.me && to.path !== '/login' && to.path !== '/unlock') return '/login'
  return true
})
