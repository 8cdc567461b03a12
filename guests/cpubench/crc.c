/* CRC-16/CCITT (polynomial x^16 + x^12 + x^5 + 1, MSB first), bit by bit on purpose:
 * it is part of the workload, a loop of shifts and data-dependent branches. */
#include "bench.h"

uint16_t crc16_update(uint16_t crc, uint8_t byte) {
  crc ^= (uint16_t)(byte << 8);
  for (int i = 0; i < 8; i++) crc = (crc & 0x8000) ? (uint16_t)((crc << 1) ^ 0x1021) : (uint16_t)(crc << 1);
  return crc;
}

uint16_t crc16_u32(uint16_t crc, uint32_t v) {
  for (int i = 0; i < 4; i++) crc = crc16_update(crc, (uint8_t)(v >> (8 * i)));
  return crc;
}
