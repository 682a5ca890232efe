// An origin's status line (RFC 9112 §4): `HTTP/1.x`, one space, exactly three digits, and a reason
// phrase of HTAB, SP, VCHAR and obs-text only; the visitor gets a status line the edge writes
// itself, so nothing else of the origin's line can reach it. After llhttp's response/invalid.md
// and sample.md; bare CR/LF and control bytes are where response splitting starts.
import type { StatusLineCase } from './types.ts';

export const statusLineCases: StatusLineCase[] = [
  { name: 'HTTP/1.1 200 OK', line: 'HTTP/1.1 200 OK', expect: { status: 200, reasonPhrase: 'OK' } },
  { name: 'HTTP/1.0', line: 'HTTP/1.0 301 Moved Permanently', expect: { status: 301, reasonPhrase: 'Moved Permanently' } },
  { name: 'no reason phrase', line: 'HTTP/1.1 301', expect: { status: 301, reasonPhrase: '' } },
  { name: 'an empty reason after the space', line: 'HTTP/1.1 200 ', expect: { status: 200, reasonPhrase: '' } },
  { name: 'two spaces before the reason (the second is part of it)', line: 'HTTP/1.1 200  OK', expect: { status: 200, reasonPhrase: ' OK' } },
  { name: 'a reason with no space (MovedPermanently)', line: 'HTTP/1.1 301 MovedPermanently', expect: { status: 301, reasonPhrase: 'MovedPermanently' } },
  { name: 'obs-text in the reason', line: 'HTTP/1.1 500 Ori\xebntatieprobleem', expect: { status: 500, reasonPhrase: 'Ori\xebntatieprobleem' } },
  { name: 'a tab in the reason', line: 'HTTP/1.1 200 O\tK', expect: { status: 200, reasonPhrase: 'O\tK' } },
  { name: 'an unknown status class (999)', line: 'HTTP/1.1 999 Odd', expect: { status: 999, reasonPhrase: 'Odd' } },
  { name: 'a control byte in the reason', line: 'HTTP/1.1 200 O\x01K', expect: { reason: 'invalid_reason_phrase' } },
  { name: 'a DEL in the reason', line: 'HTTP/1.1 200 O\x7fK', expect: { reason: 'invalid_reason_phrase' } },
  { name: 'a NUL in the reason', line: 'HTTP/1.1 200 O\0K', expect: { reason: 'nul_character' } },
  { name: 'a bare CR in the reason (bare CR after the line, llhttp)', line: 'HTTP/1.1 200 OK\rContent-Length: 0', expect: { reason: 'bare_cr' } },
  { name: 'a bare LF in the reason (response splitting)', line: 'HTTP/1.1 200 OK\nContent-Length: 0', expect: { reason: 'bare_lf' } },
  { name: 'HTP/1.1', line: 'HTP/1.1 200 OK', expect: { reason: 'invalid_status_line' } },
  { name: 'HTTPER/1.1', line: 'HTTPER/1.1 200 OK', expect: { reason: 'invalid_status_line' } },
  { name: 'RTSP/1.1', line: 'RTSP/1.1 200 OK', expect: { reason: 'invalid_version' } },
  { name: 'ICE/1.1', line: 'ICE/1.1 200 OK', expect: { reason: 'invalid_status_line' } },
  { name: 'HTTP/01.1', line: 'HTTP/01.1 200 OK', expect: { reason: 'invalid_status_line' } },
  { name: 'HTTP/11.1', line: 'HTTP/11.1 200 OK', expect: { reason: 'invalid_status_line' } },
  { name: 'HTTP/1.01', line: 'HTTP/1.01 200 OK', expect: { reason: 'invalid_status_line' } },
  { name: 'HTTP/0.9', line: 'HTTP/0.9 200 OK', expect: { reason: 'unsupported_version' } },
  { name: 'HTTP/5.6', line: 'HTTP/5.6 200 OK', expect: { reason: 'unsupported_version' } },
  { name: 'a tab after the version', line: 'HTTP/1.1\t200 OK', expect: { reason: 'invalid_status_line' } },
  { name: 'two spaces after the version', line: 'HTTP/1.1  200 OK', expect: { reason: 'invalid_status_code' } },
  { name: 'a one-digit status', line: 'HTTP/1.1 2 OK', expect: { reason: 'invalid_status_code' } },
  { name: 'a four-digit status', line: 'HTTP/1.1 2000 OK', expect: { reason: 'invalid_status_code' } },
  { name: 'an exponent (2e2)', line: 'HTTP/1.1 2e2 OK', expect: { reason: 'invalid_status_code' } },
  { name: 'a status starting with 0', line: 'HTTP/1.1 099 Low', expect: { reason: 'invalid_status_code' } },
  { name: 'a sign (+20)', line: 'HTTP/1.1 +20 OK', expect: { reason: 'invalid_status_code' } },
];
