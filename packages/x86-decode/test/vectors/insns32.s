# A broad 32-bit instruction list, assembled at test time with `as --32` and compared with
# objdump (test/objdump-diff.test.ts). Covers the forms that exist only outside 64-bit mode.
	.text
	.code32
start:
	pusha
	popa
	pushaw
	popaw
	daa
	das
	aaa
	aas
	aam
	aad
	aam $0x10
	into
	push %es
	pop %es
	push %cs
	push %ss
	pop %ss
	push %ds
	pop %ds
	inc %eax
	inc %edi
	dec %ecx
	dec %esi
	inc %ax
	bound %eax,(%ebx)
	arpl %ax,(%ebx)
	les (%eax),%ecx
	lds 0x10(%ebx),%edx
	lcall $0x1234,$0x56789abc
	ljmp $0x10,$0x1000
	lcall *(%eax)
	ljmp *0x8(%ebx)
	mov 0x12345678,%eax
	mov %al,0x1000
	mov %eax,(%esi,%edi,4)
	mov -0x10(%ebp),%ecx
	lea 0x0(,%eax,8),%edx
	mov (%bx,%si),%ax
	mov 0x10(%bp,%di),%eax
	add $0x7f,%eax
	add $0x12345678,%ebx
	addl $0x1,(%eax)
	addw $0x1,(%eax)
	addb $0x1,(%eax)
	sub %eax,%ebx
	xor %ecx,%ecx
	cmp $0x5,%al
	test %eax,%eax
	imul $0x10,%eax,%ebx
	imul %ecx,%edx
	mul %ecx
	div %ebx
	idivl (%eax)
	neg %eax
	not %ebx
	shl %eax
	shr $0x3,%ecx
	sar %cl,%edx
	rol $0x1,%al
	rcr %bl
	push $0x12345678
	push $0x10
	push %ebp
	pop %ebp
	push (%eax)
	pushw (%eax)
	pushf
	popf
	call *%eax
	call *(%ebx)
	jmp *%ecx
	ret
	ret $0x8
	lret
	iret
	leave
	enter $0x10,$0x0
	int $0x80
	int3
	hlt
	cld
	std
	cli
	sti
	cmc
	clc
	stc
	lahf
	sahf
	cwtl
	cltd
	cbtw
	cwtd
	movzbl %al,%ecx
	movzwl (%eax),%edx
	movsbl %bl,%eax
	movswl %cx,%edx
	bswap %eax
	bt %eax,%ebx
	bts $0x3,%ecx
	bsf %eax,%edx
	bsr (%eax),%ecx
	cmovne %eax,%ebx
	sete %al
	setg (%eax)
	xchg %eax,%ebx
	xchg %ecx,(%eax)
	lock xadd %eax,(%ebx)
	lock cmpxchg %ecx,(%edx)
	cmpxchg8b (%eax)
	rep movsb
	rep stosl
	repz cmpsb
	repnz scasb
	lodsl
	in $0x60,%al
	out %al,$0x80
	in (%dx),%eax
	out %ax,(%dx)
	insb
	outsl
	xlat
	nop
	pause
	nopl 0x0(%eax,%eax,1)
	nopw 0x0(%eax,%eax,1)
	cpuid
	rdtsc
	rdtscp
	lfence
	mfence
	sfence
	ud2
	sysenter
	sysexit
	flds (%eax)
	fldl (%eax)
	fldt (%eax)
	fildl (%eax)
	fildll (%eax)
	fistpl (%eax)
	fstp %st(1)
	fadd %st(2),%st
	faddp %st,%st(1)
	fmulp
	fsubrp
	fdivp %st,%st(3)
	fxch %st(1)
	fucomip %st(1),%st
	fnstcw (%eax)
	fldcw (%eax)
	fnstsw %ax
	fldz
	fld1
	fchs
	fabs
	fsqrt
	movd %eax,%mm0
	movq %mm1,%mm2
	paddb %mm1,%mm2
	emms
	movaps %xmm1,%xmm2
	movups (%eax),%xmm3
	addsd %xmm1,%xmm0
	cvtsi2sd %eax,%xmm1
	cvttsd2si %xmm0,%eax
	pxor %xmm7,%xmm7
	pshufd $0x1b,%xmm1,%xmm2
	movdqa %xmm0,(%esp)
	pcmpeqb %xmm1,%xmm2
	pmovmskb %xmm2,%eax
	vaddps %ymm1,%ymm2,%ymm3
	vmovdqu (%eax),%ymm0
	vpxor %xmm1,%xmm2,%xmm3
	vzeroupper
	andn %eax,%ebx,%ecx
	shlx %eax,%ebx,%ecx
	vaddps %zmm1,%zmm2,%zmm3{%k1}{z}
	vmovdqu64 (%eax),%zmm0
	kmovw %k1,%eax
	endbr32
near:
	jecxz near
	jcxz near
	loop near
	jmp start
	je start
	call start
