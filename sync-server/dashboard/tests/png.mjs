// Just enough PNG reading to tell a blank screenshot from a drawn one: inflate the IDAT
// chunks and count the distinct colours of the unfiltered pixel rows' bytes. No dependency.
import { inflateSync } from 'node:zlib'

export function distinctColours(png) {
  let offset = 8
  let width = 0
  let height = 0
  let channels = 4
  const idat = []
  while (offset < png.length) {
    const len = png.readUInt32BE(offset)
    const type = png.toString('ascii', offset + 4, offset + 8)
    const data = png.subarray(offset + 8, offset + 8 + len)
    if (type === 'IHDR') {
      width = data.readUInt32BE(0)
      height = data.readUInt32BE(4)
      channels = { 2: 3, 6: 4, 0: 1, 4: 2 }[data[9]] ?? 4
    } else if (type === 'IDAT') {
      idat.push(data)
    }
    offset += 12 + len
  }
  const raw = inflateSync(Buffer.concat(idat))
  const stride = width * channels
  const prev = Buffer.alloc(stride)
  const line = Buffer.alloc(stride)
  const colours = new Set()
  for (let y = 0; y < height; y++) {
    const base = y * (stride + 1)
    const filter = raw[base]
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? line[x - channels] : 0
      const b = prev[x]
      const c = x >= channels ? prev[x - channels] : 0
      const v = raw[base + 1 + x]
      let out
      switch (filter) {
        case 0:
          out = v
          break
        case 1:
          out = v + a
          break
        case 2:
          out = v + b
          break
        case 3:
          out = v + ((a + b) >> 1)
          break
        default: {
          const p = a + b - c
          const pa = Math.abs(p - a),
            pb = Math.abs(p - b),
            pc = Math.abs(p - c)
          out = v + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c)
        }
      }
      line[x] = out & 0xff
    }
    for (let x = 0; x < stride; x += channels * 4)
      colours.add(line.readUIntBE(x, Math.min(3, channels)))
    line.copy(prev)
  }
  return { width, height, colours: colours.size }
}
