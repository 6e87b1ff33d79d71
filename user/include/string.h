/* String and memory functions: kernel/string.c, compiled into the user library. */
#ifndef USER_STRING_H
#define USER_STRING_H

#include <kernel/string.h>

#endif
