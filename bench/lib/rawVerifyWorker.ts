/**
 * The raw ceiling's worker: libsodium's crypto_sign_verify_detached called directly on a packed chunk
 * (count u32, then per item: message length u32, signature 64, public key 32, message), answering with the
 * number of valid signatures. No framework, no checks beyond libsodium's own.
 */
import { parentPort } from 'node:worker_threads';
import sodiumNative from 'sodium-native';

interface SodiumVerify {
  crypto_sign_verify_detached(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean;
}
const sodium = sodiumNative as unknown as SodiumVerify;

parentPort!.on('message', ({ id, buffer }: { id: number; buffer: ArrayBuffer }) => {
  const bytes = new Uint8Array(buffer);
  const view = new DataView(buffer);
  const count = view.getUint32(0);
  let offset = 4;
  let valid = 0;
  for (let i = 0; i < count; i++) {
    const length = view.getUint32(offset);
    if (sodium.crypto_sign_verify_detached(bytes.subarray(offset + 4, offset + 68), bytes.subarray(offset + 100, offset + 100 + length), bytes.subarray(offset + 68, offset + 100))) valid++;
    offset += 100 + length;
  }
  parentPort!.postMessage({ id, valid });
});
