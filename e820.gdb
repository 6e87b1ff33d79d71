set architecture i386:x86-64
target remote :12741
symbol-file /work/main/build/stage2.elf
hbreak bios_int
commands
  silent
  if *(unsigned int *)($esp + 4) == 0x15 && *(unsigned int *)(*(unsigned int *)($esp + 8)) == 0xE820
    set *(unsigned int *)(*(unsigned int *)($esp + 8)) = 0xE8FF
  end
  continue
end
continue
