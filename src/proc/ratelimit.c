/* SPDX-License-Identifier: Apache-2.0 */
/* ratelimit: see ratelimit.h. The region holds no pointers (every worker is its own process),
 * only the table's geometry and the slots. A slot, once used, is never emptied: a token's slot
 * is only ever handed to another token while its bucket is full, i.e. when forgetting it
 * changes nothing. That keeps look-ups to a short probe of slot locks. */
#include "proc/ratelimit.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define RL_UNITS_PER_US 1024 /* the buckets' fixed point: 1/1024 µs */
#define RL_PROBE 64	     /* slots a token may use, from its hash on */
#define RL_MIN_SLOTS 32
#define RL_SPINS 256 /* spins between yields while a lock is held elsewhere */

struct rl_slot {
	_Atomic uint32_t lock; /* 0 when free, else the holder's pid */
	uint32_t used;
	int64_t token_id;
	int64_t credit;	 /* accrued time, RL_UNITS_PER_US per µs; one call costs 1/rate s */
	int64_t last_us; /* when credit was last brought up to date */
};

struct ratelimit {
	size_t map_len;
	size_t mask;
	size_t probe;
	/* Nodes sharing the limits (ratelimit_set_nodes); read with one relaxed load per call. */
	_Atomic uint32_t nodes;
	/* Taken to claim or evict a slot, so that two workers never give one token two slots. */
	_Atomic uint32_t insert_lock;
	struct rl_slot slots[];
};

/* A worker killed (SIGKILL, OOM) inside the few instructions of a critical section would
 * leave the lock held for good and stall every worker on that token; a waiter that has spun
 * for a while therefore checks that the holder still exists and takes the lock over if not. */
static bool rl_holder_gone(uint32_t holder)
{
	return holder != 0 && kill((pid_t)holder, 0) == -1 && errno == ESRCH;
}

static void rl_lock(_Atomic uint32_t *lock)
{
	uint32_t self = (uint32_t)getpid();
	for (unsigned spins = 1;; spins++) {
		uint32_t seen = atomic_load_explicit(lock, memory_order_relaxed);
		if (seen == 0 &&
		    atomic_compare_exchange_weak_explicit(lock, &seen, self, memory_order_acquire,
							  memory_order_relaxed))
			return;
		if (spins % RL_SPINS != 0)
			continue;
		if (rl_holder_gone(seen) &&
		    atomic_compare_exchange_strong_explicit(lock, &seen, self, memory_order_acquire,
							    memory_order_relaxed))
			return;
		sched_yield();
	}
}

static void rl_unlock(_Atomic uint32_t *lock)
{
	atomic_store_explicit(lock, 0, memory_order_release);
}

static size_t rl_hash(int64_t token_id)
{
	/* splitmix64's finalizer: sequential ids spread over the whole table. */
	uint64_t x = (uint64_t)token_id;
	x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
	return (size_t)(x ^ (x >> 31));
}

struct ratelimit *ratelimit_create(size_t slots)
{
	/* At most half full with the tokens asked for, so that a probe of RL_PROBE slots
	 * practically never meets RL_PROBE used ones. */
	size_t n = RL_MIN_SLOTS;
	while (n / 2 < slots && n <= SIZE_MAX / 2)
		n *= 2;
	if (n / 2 < slots || n > (SIZE_MAX - sizeof(struct ratelimit)) / sizeof(struct rl_slot)) {
		errno = ENOMEM;
		return NULL;
	}
	size_t len = sizeof(struct ratelimit) + n * sizeof(struct rl_slot);
	void *mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return NULL;
	/* Anonymous mappings are zero-filled: every slot unused and unlocked. */
	struct ratelimit *rl = mem;
	rl->map_len = len;
	rl->mask = n - 1;
	rl->probe = n < RL_PROBE ? n : RL_PROBE;
	atomic_init(&rl->nodes, 1);
	atomic_init(&rl->insert_lock, 0);
	return rl;
}

void ratelimit_destroy(struct ratelimit *rl)
{
	if (rl != NULL)
		munmap(rl, rl->map_len);
}

struct ratelimit_share ratelimit_share(double rate, int burst, unsigned nodes)
{
	struct ratelimit_share share = { rate, burst < 1 ? 1 : burst };
	if (nodes > 1) {
		share.rate = rate / nodes;
		share.burst = (int)((share.burst + (long long)nodes - 1) / nodes);
	}
	return share;
}

void ratelimit_set_nodes(struct ratelimit *rl, unsigned nodes)
{
	atomic_store_explicit(&rl->nodes, nodes < 1 ? 1 : (uint32_t)nodes, memory_order_relaxed);
}

unsigned ratelimit_nodes(const struct ratelimit *rl)
{
	/* A cast, since C11's atomic_load takes a pointer to non-const. */
	return atomic_load_explicit((_Atomic uint32_t *)&rl->nodes, memory_order_relaxed);
}

/* A token bucket kept as accrued time rather than as a count of calls: refilling adds the
 * elapsed time exactly, where a count would round every refill down and starve a slow rate
 * (0.1 call/s gains nothing per call if calls come microseconds apart). */
struct rl_bucket {
	int64_t cost; /* one call */
	int64_t cap;  /* burst calls */
};

/* Costs are clamped so that cap stays far from overflow even for absurdly slow rates. */
static struct rl_bucket rl_bucket(double rate, int burst)
{
	const double max_cap = (double)(INT64_MAX / 4);
	struct rl_bucket b;
	double nb = burst < 1 ? 1.0 : (double)burst;
	double cost = 1e6 * RL_UNITS_PER_US / rate;
	if (cost * nb > max_cap)
		cost = max_cap / nb;
	b.cost = cost < 1 ? 1 : (int64_t)(cost + 0.5);
	b.cap = b.cost * (int64_t)nb;
	return b;
}

/* The bucket's content at now, without changing it. */
static int64_t rl_refilled(const struct rl_slot *slot, const struct rl_bucket *b, int64_t now_us)
{
	int64_t elapsed = now_us - slot->last_us;
	if (elapsed <= 0)
		return slot->credit;
	if (elapsed >= (b->cap - slot->credit) / RL_UNITS_PER_US + 1)
		return b->cap;
	return slot->credit + elapsed * RL_UNITS_PER_US;
}

/* The slot of token_id, locked, or NULL if it has none. An unused slot ends the search: a
 * token is always placed at the first unused slot of its probe, and slots are never emptied. */
static struct rl_slot *rl_find(struct ratelimit *rl, int64_t token_id, size_t h)
{
	for (size_t k = 0; k < rl->probe; k++) {
		struct rl_slot *slot = &rl->slots[(h + k) & rl->mask];
		rl_lock(&slot->lock);
		if (slot->used && slot->token_id == token_id)
			return slot;
		bool end = !slot->used;
		rl_unlock(&slot->lock);
		if (end)
			break;
	}
	return NULL;
}

static struct rl_slot *rl_claim(struct rl_slot *slot, int64_t token_id, int64_t cap, int64_t now_us)
{
	slot->used = 1;
	slot->token_id = token_id;
	slot->credit = cap;
	slot->last_us = now_us;
	return slot;
}

/* Under the insert lock: the token's slot if another worker has just placed it, else the first
 * unused slot, else a slot whose bucket is full (its token idle). Returned locked, or NULL. */
static struct rl_slot *rl_insert(struct ratelimit *rl, int64_t token_id, size_t h,
				 const struct rl_bucket *b, int64_t now_us)
{
	struct rl_slot *victim = NULL, *found = NULL;
	rl_lock(&rl->insert_lock);
	for (size_t k = 0; k < rl->probe && found == NULL; k++) {
		struct rl_slot *slot = &rl->slots[(h + k) & rl->mask];
		rl_lock(&slot->lock);
		if (slot->used && slot->token_id == token_id)
			found = slot;
		else if (!slot->used)
			found = rl_claim(slot, token_id, b->cap, now_us);
		else if (victim == NULL && rl_refilled(slot, b, now_us) >= b->cap)
			victim = slot; /* kept locked, so it stays idle until claimed */
		else
			rl_unlock(&slot->lock);
	}
	if (found != NULL && victim != NULL)
		rl_unlock(&victim->lock);
	else if (found == NULL && victim != NULL)
		found = rl_claim(victim, token_id, b->cap, now_us);
	rl_unlock(&rl->insert_lock);
	return found;
}

static int rl_retry_after(int64_t missing)
{
	double wait_s = (double)missing / RL_UNITS_PER_US / 1e6;
	if (wait_s >= INT_MAX)
		return INT_MAX;
	int secs = (int)wait_s;
	if ((double)secs < wait_s)
		secs++;
	return secs < 1 ? 1 : secs;
}

bool ratelimit_take(struct ratelimit *rl, int64_t token_id, double rate, int burst, int64_t now_us,
		    int *retry_after_s)
{
	if (retry_after_s != NULL)
		*retry_after_s = 0;
	if (rl == NULL || !(rate > 0))
		return true;
	struct ratelimit_share share = ratelimit_share(rate, burst, ratelimit_nodes(rl));
	struct rl_bucket b = rl_bucket(share.rate, share.burst);
	size_t h = rl_hash(token_id);
	struct rl_slot *slot = rl_find(rl, token_id, h);
	if (slot == NULL)
		slot = rl_insert(rl, token_id, h, &b, now_us);
	if (slot == NULL)
		return true;
	int64_t credit = rl_refilled(slot, &b, now_us);
	if (now_us > slot->last_us)
		slot->last_us = now_us;
	bool allowed = credit >= b.cost;
	slot->credit = allowed ? credit - b.cost : credit;
	rl_unlock(&slot->lock);
	if (!allowed && retry_after_s != NULL)
		*retry_after_s = rl_retry_after(b.cost - credit);
	return allowed;
}

/* n big-endian bytes as a number. */
static uint64_t rl_be(const unsigned char *p, int n)
{
	uint64_t v = 0;
	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

int64_t ratelimit_addr_key(const char *addr)
{
	static const unsigned char v4mapped[12] = { [10] = 0xff, [11] = 0xff };
	unsigned char a[16];

	if (inet_pton(AF_INET, addr, a) == 1)
		return (int64_t)rl_be(a, 4);
	if (inet_pton(AF_INET6, addr, a) != 1)
		return 0;
	if (memcmp(a, v4mapped, sizeof(v4mapped)) == 0)
		return (int64_t)rl_be(a + 12, 4);
	return (int64_t)rl_be(a, 8); /* the /64 */
}
