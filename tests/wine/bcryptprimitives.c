/* Wine 8 (Debian 12) lacks bcryptprimitives.dll, which Rust's std (1.78+) imports for
 * ProcessPrng; Windows 10 and later have it. This stand-in, used only in the Wine tests, fills
 * the buffer from RtlGenRandom (advapi32's SystemFunction036), as ProcessPrng does. */
#include <windows.h>
BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);
__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
  while (len > 0) {
    ULONG n = len > 0x10000000 ? 0x10000000 : (ULONG)len;
    if (!SystemFunction036(data, n)) return FALSE;
    data += n; len -= n;
  }
  return TRUE;
}
