/*
 * Futexes (sched/futex.c, docs/syscalls.md): sleep while a 32-bit user
 * word holds a value, wake up to N sleepers on a word. Words are keyed by
 * (address space, user virtual address): Kestrel processes share no memory.
 */
#ifndef KERNEL_FUTEX_H
#define KERNEL_FUTEX_H

#include <stdint.h>

/*
 * Sleeps while *uaddr == val, at most timeout_ns (0: no limit). 0 when
 * woken by futex_wake; -EAGAIN if the word held another value, -ETIMEDOUT,
 * -EINTR (the process is exiting), -EFAULT, -EINVAL (not 4-byte aligned).
 */
int64_t futex_wait(uint64_t uaddr, uint32_t val, uint64_t timeout_ns);
/* Wakes up to n sleepers on uaddr, oldest first; returns how many woke. */
int64_t futex_wake(uint64_t uaddr, uint32_t n);
/* Sleepers on futexes now (all processes), for tests. */
uint64_t futex_waiters(void);

#endif
