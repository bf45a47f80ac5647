/*
 * rawsys.h - system calls for a child that shares its parent's memory
 * (clone with CLONE_VM): such a child may touch nothing of libc's state,
 * and libc's syscall() writes errno, which is the parent's (the child runs
 * on the parent's thread pointer).  rawsys() returns what the kernel
 * returned: the result, or -errno; errno is left alone.
 *
 * rawsys_clone_run() is clone3(2) for such a child: it runs fn(arg) on
 * the stack the clone_args name and exits with its result, where libc's
 * clone() cannot take clone3's arguments (CLONE_INTO_CGROUP).  Only where
 * RAWSYS_CLONE_RUN is defined (x86-64); elsewhere the callers take their
 * other way.  rawsys() itself is assembly on x86-64 and arm64.
 */
#ifndef BG_RAWSYS_H
#define BG_RAWSYS_H

#include <stddef.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <errno.h>

#if defined(__x86_64__)

#define RAWSYS_CLONE_RUN 1

static inline long
rawsys(long nr, long a, long b, long c, long d)
{
	long r;
	register long r10 __asm__("r10") = d;

	__asm__ volatile("syscall"
	    : "=a"(r)
	    : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10)
	    : "rcx", "r11", "memory");
	return r;
}

/*
 * In the child the kernel has set the stack pointer to the top of the
 * stack the clone_args name (16-byte aligned by the caller); every other
 * register is the parent's, so fn and arg are still where the compiler
 * put them (not in rax, the result, and perhaps in rbp, which is cleared
 * only once they are read: the child's first frame).  The child never returns here: fn's result is its exit status.
 */
static inline long
rawsys_clone_run(void *clone_args, size_t size, int (*fn)(void *), void *arg)
{
	long r;

	__asm__ volatile(
	    "syscall\n\t"
	    "testq %%rax, %%rax\n\t"
	    "jnz 1f\n\t"
	    "movq %[fn], %%rax\n\t"
	    "movq %[arg], %%rdi\n\t"
	    "xorl %%ebp, %%ebp\n\t"
	    "callq *%%rax\n\t"
	    "movl %%eax, %%edi\n\t"
	    "movl %[nr_exit], %%eax\n\t"
	    "syscall\n\t"
	    "hlt\n"
	    "1:"
	    : "=a"(r)
	    : "a"((long)SYS_clone3), "D"(clone_args), "S"(size), [fn] "r"(fn), [arg] "r"(arg),
	      [nr_exit] "i"(SYS_exit)
	    : "rcx", "r11", "memory");
	return r;
}

#elif defined(__aarch64__)

static inline long
rawsys(long nr, long a, long b, long c, long d)
{
	register long x8 __asm__("x8") = nr;
	register long x0 __asm__("x0") = a;
	register long x1 __asm__("x1") = b;
	register long x2 __asm__("x2") = c;
	register long x3 __asm__("x3") = d;

	__asm__ volatile("svc #0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3) : "memory");
	return x0;
}

#else

/* libc's syscall() with errno put back: narrows the window, no more */
static inline long
rawsys(long nr, long a, long b, long c, long d)
{
	int saved = errno;
	long r = syscall(nr, a, b, c, d);

	if (r == -1) {
		r = -errno;
		errno = saved;
	}
	return r;
}

#endif

#endif
