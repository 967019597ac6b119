/*
 * bcryptprimitives.dll for Wine 8, which lacks it: Rust's standard library
 * on Windows gets its random numbers (HashMap keys, for one) from
 * ProcessPrng there, and a program without it does not start. This fills
 * the buffer from RtlGenRandom (advapi32's SystemFunction036) instead.
 * Built with mingw and put into the Wine prefix's system32 by .ci/wine; it
 * is never part of what learners run.
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    while (len > 0) {
        ULONG chunk = len > 0x40000000 ? 0x40000000 : (ULONG)len;
        if (!SystemFunction036(data, chunk))
            return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
