/*
 * The state-machine kernel: a switch-driven scanner that splits a generated text
 * into tokens and classifies each as an integer, a decimal, a number with an
 * exponent, or invalid (like "1e", "--3", "1.2.3"); separators are ',' and ' '.
 */
#include "bench.h"

#define TEXT_LEN 200

enum state { START, SIGN, INT, POINT, FRAC, EXP, EXP_SIGN, EXP_DIGITS, INVALID };
enum kind { K_INT, K_DECIMAL, K_EXP, K_INVALID, KINDS };

static char text[TEXT_LEN + 1];
static const char alphabet[] = "0123456789012345.+-e, ,1";

static enum kind classify(enum state s) {
  switch (s) {
  case INT: return K_INT;
  case FRAC: return K_DECIMAL;
  case EXP_DIGITS: return K_EXP;
  default: return K_INVALID;
  }
}

static enum state step(enum state s, char ch) {
  int digit = ch >= '0' && ch <= '9';
  switch (s) {
  case START: return digit ? INT : (ch == '+' || ch == '-') ? SIGN : ch == '.' ? POINT : INVALID;
  case SIGN: return digit ? INT : ch == '.' ? POINT : INVALID;
  case INT: return digit ? INT : ch == '.' ? POINT : ch == 'e' ? EXP : INVALID;
  case POINT: return digit ? FRAC : INVALID;
  case FRAC: return digit ? FRAC : ch == 'e' ? EXP : INVALID;
  case EXP: return digit ? EXP_DIGITS : (ch == '+' || ch == '-') ? EXP_SIGN : INVALID;
  case EXP_SIGN: return digit ? EXP_DIGITS : INVALID;
  case EXP_DIGITS: return digit ? EXP_DIGITS : INVALID;
  default: return INVALID;
  }
}

uint16_t kernel_state(uint32_t seed) {
  for (int i = 0; i < TEXT_LEN; i++) text[i] = alphabet[prng_next(&seed) % (sizeof alphabet - 1)];
  text[TEXT_LEN] = 0;
  uint32_t counts[KINDS] = {0}, transitions = 0, longest = 0, len = 0;
  enum state s = START;
  for (const char *p = text;; p++) {
    if (*p == ',' || *p == ' ' || *p == 0) {
      if (len) counts[classify(s)]++;
      if (len > longest) longest = len;
      s = START;
      len = 0;
      if (*p == 0) break;
      continue;
    }
    enum state next = step(s, *p);
    transitions += next != s;
    s = next;
    len++;
  }
  uint16_t crc = 0xffff;
  for (int k = 0; k < KINDS; k++) crc = crc16_u32(crc, counts[k]);
  crc = crc16_u32(crc, transitions);
  return crc16_u32(crc, longest);
}
