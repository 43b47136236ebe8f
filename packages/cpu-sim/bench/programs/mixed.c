/* Second CPU-bound benchmark program: calls, memory and strings rather than one integer loop.
 * Each round runs a small bytecode interpreter (switch dispatch through a jump table), formats
 * and parses numbers with snprintf/strtol, sorts records with qsort and a comparator (indirect
 * calls), builds and probes a chained hash table of malloc'd nodes (strcmp, memcpy, free),
 * and recurses. Prints a checksum so native, qemu-user and xmc runs can be compared. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned long long mix(unsigned long long h, unsigned long long v) {
  h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  return h;
}

/* A register machine: SET r imm, ADDI r imm, ADD ra rb, MULM ra rb (mod a prime), DEC r,
 * JNZ r target, HALT r. */
enum { SET, ADDI, ADD, MULM, DEC, JNZ, HALT };
static long run_vm(const int *code, long n) {
  long reg[4] = {n, 1, 0, 0};
  int pc = 0;
  for (;;) {
    const int *i = code + pc;
    switch (i[0]) {
    case SET: reg[i[1]] = i[2]; pc += 3; break;
    case ADDI: reg[i[1]] += i[2]; pc += 3; break;
    case ADD: reg[i[1]] += reg[i[2]]; pc += 3; break;
    case MULM: reg[i[1]] = reg[i[1]] * reg[i[2]] % 1000003; pc += 3; break;
    case DEC: reg[i[1]]--; pc += 2; break;
    case JNZ: pc = reg[i[1]] ? i[2] : pc + 3; break;
    default: return reg[i[1]];
    }
  }
}

struct rec { char name[24]; int key; };

static int by_name(const void *a, const void *b) {
  const struct rec *x = a, *y = b;
  int c = strcmp(x->name, y->name);
  return c ? c : x->key - y->key;
}

struct node { struct node *next; char *key; long value; };
enum { BUCKETS = 257 };

static unsigned hash(const char *s) {
  unsigned h = 5381;
  while (*s) h = h * 33 + (unsigned char)*s++;
  return h;
}

static int fib(int n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

int main(int argc, char **argv) {
  int rounds = argc > 1 ? atoi(argv[1]) : 10;
  /* acc = 1; do { acc = acc * (n + 3) % P + 7; } while (--n) */
  static const int prog[] = {SET, 2, 3, ADD, 2, 0, MULM, 1, 2, ADDI, 1, 7, DEC, 0, JNZ, 0, 0, HALT, 1};
  enum { NREC = 400 };
  static struct rec recs[NREC];
  static struct node *table[BUCKETS];
  unsigned long long h = 0;
  char buf[64];
  for (int r = 0; r < rounds; r++) {
    h = mix(h, (unsigned long long)run_vm(prog, 300 + r % 7));
    for (int i = 0; i < NREC; i++) {
      int v = (int)((i * 7919u + r * 104729u) % 100000u);
      snprintf(recs[i].name, sizeof recs[i].name, "k%05d-%x", v, i & 15);
      recs[i].key = v;
    }
    qsort(recs, NREC, sizeof recs[0], by_name);
    for (int i = 0; i < NREC; i += 37) h = mix(h, (unsigned long long)strtol(recs[i].name + 1, 0, 10));
    for (int i = 0; i < NREC; i++) {
      unsigned b = hash(recs[i].name) % BUCKETS;
      struct node *n = malloc(sizeof *n);
      size_t len = strlen(recs[i].name) + 1;
      n->key = malloc(len);
      memcpy(n->key, recs[i].name, len);
      n->value = recs[i].key;
      n->next = table[b];
      table[b] = n;
    }
    for (int i = 0; i < NREC; i += 3) {
      snprintf(buf, sizeof buf, "%s", recs[(i * 13) % NREC].name);
      for (struct node *n = table[hash(buf) % BUCKETS]; n; n = n->next)
        if (strcmp(n->key, buf) == 0) {
          h = mix(h, (unsigned long long)n->value);
          break;
        }
    }
    for (int b = 0; b < BUCKETS; b++) {
      struct node *n = table[b];
      while (n) {
        struct node *next = n->next;
        free(n->key);
        free(n);
        n = next;
      }
      table[b] = 0;
    }
    h = mix(h, (unsigned long long)fib(14 + r % 3));
  }
  printf("%016llx\n", h);
  return 0;
}
