/* Error numbers: the kernel's (Linux values). System calls return them negated. */
#ifndef USER_ERRNO_H
#define USER_ERRNO_H

#include <kernel/errno.h>

#endif
