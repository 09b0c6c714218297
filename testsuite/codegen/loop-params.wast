;; Loop parameters used as addresses (compiler/src/zext.rs,
;; `widen_loop_params`): on x86-64 an i32 counter or pointer that a loop
;; steps and zero-extends for an access becomes a 64-bit parameter passed
;; zero-extended on every edge. The access must see exactly the i32 value:
;; a pointer stepped below 0 is near 2^32 (a trap, not 4 bytes below the
;; memory), one stepped past 2^32 - 4 wraps to 0.

(module
  (memory 1)
  (data (i32.const 0) "\01\00\00\00\02\00\00\00\03\00\00\00\04\00\00\00")
  (data (i32.const 65532) "\05\00\00\00")
  ;; sum of n words from p, stepping by `step` bytes.
  (func (export "walk") (param $p i32) (param $n i32) (param $step i32) (result i32)
    (local $s i32)
    (block $done
      (loop $l
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $s (i32.add (local.get $s) (i32.load (local.get $p))))
        (local.set $p (i32.add (local.get $p) (local.get $step)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $l)))
    (local.get $s))
  ;; The same stepping by a constant downwards: 8, 4, 0, -4, ...
  (func (export "down") (param $p i32) (param $n i32) (result i32)
    (local $s i32)
    (loop $l
      (local.set $s (i32.add (i32.mul (local.get $s) (i32.const 10))
                             (i32.load (local.get $p))))
      (local.set $p (i32.sub (local.get $p) (i32.const 4)))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
    (local.get $s))
  ;; Upwards by a constant, through 2^32: 0xfffffffc + 4 is 0.
  (func (export "up") (param $p i32) (param $n i32) (result i32)
    (local $s i32)
    (loop $l
      (local.set $s (i32.add (i32.mul (local.get $s) (i32.const 10))
                             (i32.load8_u (local.get $p))))
      (local.set $p (i32.add (local.get $p) (i32.const 4)))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
    (local.get $s))
  ;; The pointer is also read as a number in the loop and after it.
  (func (export "mixed") (param $p i32) (param $n i32) (result i32)
    (local $s i32)
    (loop $l
      (local.set $s (i32.add (local.get $s)
        (i32.add (i32.load (local.get $p)) (i32.shr_u (local.get $p) (i32.const 2)))))
      (local.set $p (i32.add (local.get $p) (i32.const 4)))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
    (i32.add (i32.mul (local.get $s) (i32.const 1000)) (local.get $p)))
)

(assert_return (invoke "walk" (i32.const 0) (i32.const 4) (i32.const 4)) (i32.const 10))
(assert_return (invoke "walk" (i32.const 12) (i32.const 4) (i32.const -4)) (i32.const 10))
(assert_return (invoke "walk" (i32.const 65532) (i32.const 1) (i32.const 4)) (i32.const 5))
(assert_trap (invoke "walk" (i32.const 4) (i32.const 3) (i32.const -4)) "out of bounds memory access")
(assert_trap (invoke "walk" (i32.const 65532) (i32.const 2) (i32.const 4)) "out of bounds memory access")
(assert_return (invoke "down" (i32.const 12) (i32.const 4)) (i32.const 4321))
(assert_return (invoke "down" (i32.const 8) (i32.const 3)) (i32.const 321))
(assert_trap (invoke "down" (i32.const 8) (i32.const 4)) "out of bounds memory access")
(assert_trap (invoke "down" (i32.const 0) (i32.const 2)) "out of bounds memory access")
(assert_trap (invoke "up" (i32.const -8) (i32.const 3)) "out of bounds memory access")
(assert_return (invoke "up" (i32.const 0) (i32.const 4)) (i32.const 1234))
(assert_return (invoke "mixed" (i32.const 0) (i32.const 4)) (i32.const 16016))
(assert_return (invoke "mixed" (i32.const 8) (i32.const 2)) (i32.const 12016))
