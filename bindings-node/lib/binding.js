'use strict'

// The compiled addon. napi's generated loader (native.js) looks for a file
// next to it, then for the platform package (`miosa-native-<platform>`) that
// npm installs from optionalDependencies. When neither is there, say which
// platform this is and which ones have a package, instead of napi's generic
// hint about an npm bug.

const { napi } = require('../package.json')

// napi's names for the Rust targets in package.json, as used in package names.
const PLATFORM_OF_TARGET = {
  'x86_64-unknown-linux-gnu': 'linux-x64-gnu',
  'x86_64-unknown-linux-musl': 'linux-x64-musl',
  'aarch64-unknown-linux-gnu': 'linux-arm64-gnu',
  'aarch64-unknown-linux-musl': 'linux-arm64-musl',
  'x86_64-apple-darwin': 'darwin-x64',
  'aarch64-apple-darwin': 'darwin-arm64',
  'x86_64-pc-windows-msvc': 'win32-x64-msvc',
}

function currentPlatform() {
  let name = `${process.platform}-${process.arch}`
  if (process.platform === 'linux') {
    const report = process.report && typeof process.report.getReport === 'function' ? process.report.getReport() : null
    const glibc = report && report.header && report.header.glibcVersionRuntime
    name += glibc ? '-gnu' : '-musl'
  } else if (process.platform === 'win32') {
    name += '-msvc'
  }
  return name
}

function load() {
  try {
    return require('../native.js')
  } catch (cause) {
    const platform = currentPlatform()
    const supported = napi.targets.map((t) => PLATFORM_OF_TARGET[t] || t)
    const hint = supported.includes(platform)
      ? `its package miosa-native-${platform} is missing or broken: reinstall miosa-native ` +
        '(npm must not skip optional dependencies: no --omit=optional / --no-optional)'
      : 'no prebuilt binary exists for it'
    const error = new Error(
      `miosa-native: cannot load the native addon for ${platform}: ${hint}. ` +
        `Platforms with a prebuilt binary: ${supported.join(', ')}.`,
    )
    error.code = 'MIOSA_NATIVE_UNAVAILABLE'
    error.cause = cause
    throw error
  }
}

const addon = load()
// The User-Agent names the runtime: Node, Bun and Deno all report a Node version.
const runtime = typeof process.versions.bun === 'string' ? `bun/${process.versions.bun}` : `node/${process.versions.node}`
addon.setRuntime(runtime)

module.exports = addon
