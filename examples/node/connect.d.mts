import type { Client, ClientOptions } from 'miosa-native'

/** A client for MIOSA when MIOSA_API_KEY is set, otherwise for a local miosa-emulator. */
export declare function connect(
  ClientClass: typeof Client,
  options?: ClientOptions,
): Promise<{ client: Client; close: () => Promise<void> }>
