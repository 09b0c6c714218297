;; Addresses computed in counted loops (compiler/src/ranges.rs and
;; compiler/src/addresses.rs): where the ranges of a loop's counters prove
;; that an i32 address sum cannot wrap, `base + zext(a + b)` becomes
;; `base + ext(a) + ext(b)` with constants in the access's offset and the
;; loop-invariant part computed outside the loop. Each function reads words
;; that hold their own address (so every sum below is a sum of addresses),
;; through sums that do not wrap, sums of true values below zero (a sign
;; extension is needed: a zero extension would reach 4 GiB up), counters
;; compared signed and unsigned near the ends of the i32 range, and a loop
;; that traps halfway: the same bytes must be read and written, and the
;; same access must trap, as with the i32 arithmetic.

(module
  (memory 1)
  ;; Every aligned word holds its own address.
  (func $fill
    (local $a i32)
    (loop $l
      (i32.store (local.get $a) (local.get $a))
      (br_if $l (i32.ne (local.tee $a (i32.add (local.get $a) (i32.const 4)))
                        (i32.const 65536)))))
  (start $fill)

  (func (export "load") (param $a i32) (result i32) (i32.load (local.get $a)))

  ;; 8 rows of 64 bytes from 1024, read as row + j (matmul's c[i] + j):
  ;; row is the outer loop's, j the inner one's. Words 1024..1532.
  (func (export "grid") (result i32)
    (local $r i32) (local $row i32) (local $j i32) (local $acc i32)
    (local.set $row (i32.const 1024))
    (loop $outer
      (local.set $j (i32.const 0))
      (loop $inner
        (local.set $acc (i32.add (local.get $acc)
          (i32.load (i32.add (local.get $row) (local.get $j)))))
        (br_if $inner (i32.ne (local.tee $j (i32.add (local.get $j) (i32.const 4)))
                              (i32.const 64))))
      (local.set $row (i32.add (local.get $row) (i32.const 64)))
      (br_if $outer (i32.ne (local.tee $r (i32.add (local.get $r) (i32.const 1)))
                            (i32.const 8))))
    (local.get $acc))

  ;; The same, two words per step, and a second matrix 4096 bytes on:
  ;; rows start at 1024 + 64 r, the second read at row + j + 4100.
  (func (export "grid2") (result i32)
    (local $r i32) (local $row i32) (local $j i32) (local $acc i32)
    (local.set $row (i32.const 1024))
    (loop $outer
      (local.set $j (i32.const 0))
      (loop $inner
        (local.set $acc (i32.add (local.get $acc)
          (i32.add
            (i32.load offset=4 (i32.add (local.get $row) (local.get $j)))
            (i32.load (i32.add (i32.add (local.get $row) (local.get $j)) (i32.const 4100))))))
        (br_if $inner (i32.ne (local.tee $j (i32.add (local.get $j) (i32.const 8)))
                              (i32.const 64))))
      (local.set $row (i32.add (local.get $row) (i32.const 64)))
      (br_if $outer (i32.lt_u (local.tee $r (i32.add (local.get $r) (i32.const 1)))
                              (i32.const 8))))
    (local.get $acc))

  ;; i = -256, -252, ..., -4 (the loop leaves when i + 4 is 0), read at
  ;; i + 2048 (quicksort's first loop): words 1792..2044.
  (func (export "negative") (result i32)
    (local $i i32) (local $acc i32)
    (local.set $i (i32.const -256))
    (loop $l
      (local.set $acc (i32.add (local.get $acc)
        (i32.load (i32.add (local.get $i) (i32.const 2048)))))
      (br_if $l (local.tee $i (i32.add (local.get $i) (i32.const 4)))))
    (local.get $acc))

  ;; Records of 16 bytes: p = 4112, 4128, ..., 4608, reading the field 12
  ;; bytes before p (nbody's bj->x at p - 32): words 4100..4596.
  (func (export "fields") (result i32)
    (local $p i32) (local $acc i32)
    (local.set $p (i32.const 4112))
    (loop $l
      (local.set $acc (i32.add (local.get $acc)
        (i32.load (i32.add (local.get $p) (i32.const -12)))))
      (br_if $l (i32.ne (local.tee $p (i32.add (local.get $p) (i32.const 16)))
                        (i32.const 4624))))
    (local.get $acc))

  ;; A base of 0xffff_fff0 (-16) and j = 16, 20, ..., 60 (`j + 4 <u 64`):
  ;; the i32 sum wraps to words 0..44.
  (func (export "wrapped-base") (result i32)
    (local $j i32) (local $acc i32)
    (local.set $j (i32.const 16))
    (loop $l
      (local.set $acc (i32.add (local.get $acc)
        (i32.load (i32.add (i32.const 0xfffffff0) (local.get $j)))))
      (br_if $l (i32.lt_u (local.tee $j (i32.add (local.get $j) (i32.const 4)))
                          (i32.const 64))))
    (local.get $acc))

  ;; i = 0x7fff_f100, ..., 0x7fff_f1fc (`i + 4 <s 0x7fff_f200`), read at
  ;; i + 0x8000_1000, which wraps to words 0x100..0x1fc.
  (func (export "signed-top") (result i32)
    (local $i i32) (local $acc i32)
    (local.set $i (i32.const 0x7ffff100))
    (loop $l
      (local.set $acc (i32.add (local.get $acc)
        (i32.load (i32.add (local.get $i) (i32.const 0x80001000)))))
      (br_if $l (i32.lt_s (local.tee $i (i32.add (local.get $i) (i32.const 4)))
                          (i32.const 0x7ffff200))))
    (local.get $acc))

  ;; i = 0xffff_ff00, ..., 0xffff_ffec (`i + 4 <u 0xffff_fff0`), read at
  ;; i + 0x200: words 0x100..0x1ec.
  (func (export "unsigned-top") (result i32)
    (local $i i32) (local $acc i32)
    (local.set $i (i32.const 0xffffff00))
    (loop $l
      (local.set $acc (i32.add (local.get $acc)
        (i32.load (i32.add (local.get $i) (i32.const 0x200)))))
      (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 4)))
                          (i32.const 0xfffffff0))))
    (local.get $acc))

  ;; Counting down: i = 400, 396, ..., 104 (`i - 4 >u 100`), read at
  ;; i + 8192: words 8296..8592.
  (func (export "down") (result i32)
    (local $i i32) (local $acc i32)
    (local.set $i (i32.const 400))
    (loop $l
      (local.set $acc (i32.add (local.get $acc)
        (i32.load (i32.add (local.get $i) (i32.const 8192)))))
      (br_if $l (i32.gt_u (local.tee $i (i32.sub (local.get $i) (i32.const 4)))
                          (i32.const 100))))
    (local.get $acc))

  ;; j = 0, 4, ..., 60 read at j - 64: true values below zero, which the
  ;; i32 sum wraps to 4 GiB - 64: the first read traps (it must not reach
  ;; below the memory).
  (func (export "below-zero") (result i32)
    (local $j i32) (local $acc i32)
    (loop $l
      (local.set $acc (i32.add (local.get $acc)
        (i32.load (i32.add (local.get $j) (i32.const -64)))))
      (br_if $l (i32.ne (local.tee $j (i32.add (local.get $j) (i32.const 4)))
                        (i32.const 64))))
    (local.get $acc))

  ;; A base from the caller: nothing is known, the sum wraps as i32.
  (func (export "param-base") (param $row i32) (result i32)
    (local $j i32) (local $acc i32)
    (loop $l
      (local.set $acc (i32.add (local.get $acc)
        (i32.load (i32.add (local.get $row) (local.get $j)))))
      (br_if $l (i32.ne (local.tee $j (i32.add (local.get $j) (i32.const 4)))
                        (i32.const 32))))
    (local.get $acc))

  ;; Stores 7 at p - 8 for p = 65480, 65488, ..., 65552: the stores at
  ;; 65472..65528 land, the one at 65536 traps.
  (func (export "store-run")
    (local $p i32)
    (local.set $p (i32.const 65480))
    (loop $l
      (i32.store (i32.add (local.get $p) (i32.const -8)) (i32.const 7))
      (br_if $l (i32.ne (local.tee $p (i32.add (local.get $p) (i32.const 8)))
                        (i32.const 65560)))))
)

(assert_return (invoke "grid") (i32.const 163584))
(assert_return (invoke "grid2") (i32.const 425984))
(assert_return (invoke "negative") (i32.const 122752))
(assert_return (invoke "fields") (i32.const 139136))
(assert_return (invoke "wrapped-base") (i32.const 264))
(assert_return (invoke "signed-top") (i32.const 24448))
(assert_return (invoke "unsigned-top") (i32.const 22440))
(assert_return (invoke "down") (i32.const 633300))
(assert_trap (invoke "below-zero") "out of bounds memory access")
(assert_return (invoke "param-base" (i32.const 256)) (i32.const 2160))
;; -16 + j for j = 0, 4, ...: the first word read is at 4 GiB - 16.
(assert_trap (invoke "param-base" (i32.const 0xfffffff0)) "out of bounds memory access")
;; From 65520, the fifth word read is at 65536.
(assert_trap (invoke "param-base" (i32.const 65520)) "out of bounds memory access")
(assert_trap (invoke "store-run") "out of bounds memory access")
(assert_return (invoke "load" (i32.const 65464)) (i32.const 65464))
(assert_return (invoke "load" (i32.const 65472)) (i32.const 7))
(assert_return (invoke "load" (i32.const 65476)) (i32.const 65476))
(assert_return (invoke "load" (i32.const 65528)) (i32.const 7))
(assert_return (invoke "load" (i32.const 65532)) (i32.const 65532))
