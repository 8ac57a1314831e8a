// Where the phone is: the webview's geolocation when it has one, else the shell's fixed
// desktop location (CUNJI_LOCATION), else nothing.
import { api } from './api'
import type { CheckInInput } from './bindings/CheckInInput'

export async function currentLocation(timeoutMs = 5000): Promise<CheckInInput | null> {
  const fromBrowser = await new Promise<CheckInInput | null>((resolve) => {
    if (!('geolocation' in navigator)) return resolve(null)
    const timer = setTimeout(() => resolve(null), timeoutMs + 500)
    navigator.geolocation.getCurrentPosition(
      (p) => {
        clearTimeout(timer)
        resolve({
          lat: p.coords.latitude,
          lon: p.coords.longitude,
          accuracy_m: p.coords.accuracy ?? null,
        })
      },
      () => {
        clearTimeout(timer)
        resolve(null)
      },
      { enableHighAccuracy: true, timeout: timeoutMs, maximumAge: 30000 },
    )
  })
  if (fromBrowser) return fromBrowser
  try {
    return await api.deviceLocation()
  } catch {
    return null
  }
}
