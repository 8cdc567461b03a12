/*
 * The linked-list kernel: pointer chasing and data-dependent branches. Builds a
 * sorted singly linked list by insertion, deletes the nodes whose key is a multiple
 * of 3, reverses the list, and finds keys by walking it.
 */
#include "bench.h"

#define NODES 64

struct node {
  struct node *next;
  uint32_t key;
  uint32_t value;
};

static struct node pool[NODES];

static struct node *insert_sorted(struct node *head, struct node *n) {
  struct node **link = &head;
  while (*link && (*link)->key < n->key) link = &(*link)->next;
  n->next = *link;
  *link = n;
  return head;
}

static struct node *remove_multiples_of_3(struct node *head, uint32_t *removed) {
  struct node **link = &head;
  while (*link) {
    if ((*link)->key % 3 == 0) {
      *link = (*link)->next;
      (*removed)++;
    } else {
      link = &(*link)->next;
    }
  }
  return head;
}

static struct node *reverse(struct node *head) {
  struct node *prev = 0;
  while (head) {
    struct node *next = head->next;
    head->next = prev;
    prev = head;
    head = next;
  }
  return prev;
}

static const struct node *find(const struct node *head, uint32_t key) {
  while (head && head->key != key) head = head->next;
  return head;
}

uint16_t kernel_list(uint32_t seed) {
  struct node *head = 0;
  for (uint32_t i = 0; i < NODES; i++) {
    pool[i].key = prng_next(&seed) & 0xfff;
    pool[i].value = i * 0x01000193u;
    head = insert_sorted(head, &pool[i]);
  }
  uint32_t removed = 0;
  head = remove_multiples_of_3(head, &removed);
  head = reverse(head);
  uint16_t crc = crc16_u32(0xffff, removed);
  for (uint32_t i = 0; i < 16; i++) {
    const struct node *n = find(head, pool[(i * 7) % NODES].key);
    crc = crc16_u32(crc, n ? n->value : 0xdeadu);
  }
  uint32_t sum = 0, count = 0;
  for (const struct node *n = head; n; n = n->next) {
    sum = sum * 31 + (n->key ^ n->value);
    count++;
  }
  crc = crc16_u32(crc, sum);
  return crc16_u32(crc, count);
}
