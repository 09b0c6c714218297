;; Subtractions of constants (compiler/src/hoist.rs,
;; `subtractions_as_additions`): on x86-64 `x - c` is compiled as
;; `x + (-c)` so that it folds into `lea` and address modes. Wrapping must
;; match: -(-2^31) is -2^31 at 32 bits, -(-2^63) at 64 bits, and an address
;; `fp - 128 + 4 * i` wraps modulo 2^32 before the access.

(module
  (memory 1)
  (data (i32.const 0) "\01\00\00\00\02\00\00\00\03\00\00\00\04\00\00\00")
  (func (export "sub32") (param $x i32) (param $k i32) (result i32)
    (block $minus_min (block $minus_one (block $minus_zero (block $large
      (br_table $large $minus_zero $minus_one $minus_min (local.get $k)))
      (return (i32.sub (local.get $x) (i32.const 0x7fffffff))))
      (return (i32.sub (local.get $x) (i32.const 0))))
      (return (i32.sub (local.get $x) (i32.const -1))))
    (i32.sub (local.get $x) (i32.const 0x80000000)))
  (func (export "sub64") (param $x i64) (param $k i32) (result i64)
    (block $minus_min (block $minus_one (block $large
      (br_table $large $minus_one $minus_min (local.get $k)))
      (return (i64.sub (local.get $x) (i64.const 0x7fffffffffffffff))))
      (return (i64.sub (local.get $x) (i64.const -1))))
    (i64.sub (local.get $x) (i64.const 0x8000000000000000)))
  ;; A frame below `fp`, indexed: `fp - 128 + 4 * i`, as clang addresses a
  ;; local array on the shadow stack.
  (func (export "frame_load") (param $fp i32) (param $i i32) (result i32)
    (i32.load (i32.add (i32.sub (local.get $fp) (i32.const 128))
                       (i32.shl (local.get $i) (i32.const 2)))))
  ;; The same in a loop, with the frame computed once and used in several
  ;; blocks.
  (func (export "frame_sum") (param $fp i32) (param $n i32) (result i32)
    (local $frame i32) (local $s i32)
    (local.set $frame (i32.sub (local.get $fp) (i32.const 128)))
    (block $done
      (loop $l
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (if (i32.and (local.get $n) (i32.const 1))
          (then (local.set $s (i32.add (local.get $s)
                  (i32.load (i32.add (local.get $frame) (i32.shl (local.get $n) (i32.const 2)))))))
          (else (local.set $s (i32.sub (local.get $s)
                  (i32.load (i32.add (local.get $frame) (i32.shl (local.get $n) (i32.const 2))))))))
        (br $l)))
    (local.get $s))
)

(assert_return (invoke "sub32" (i32.const 5) (i32.const 0)) (i32.const -2147483642))
(assert_return (invoke "sub32" (i32.const 5) (i32.const 1)) (i32.const 5))
(assert_return (invoke "sub32" (i32.const 5) (i32.const 2)) (i32.const 6))
(assert_return (invoke "sub32" (i32.const -1) (i32.const 2)) (i32.const 0))
(assert_return (invoke "sub32" (i32.const 5) (i32.const 3)) (i32.const -2147483643))
(assert_return (invoke "sub32" (i32.const 0x80000000) (i32.const 3)) (i32.const 0))
(assert_return (invoke "sub64" (i64.const 5) (i32.const 0)) (i64.const -9223372036854775802))
(assert_return (invoke "sub64" (i64.const -1) (i32.const 1)) (i64.const 0))
(assert_return (invoke "sub64" (i64.const 5) (i32.const 2)) (i64.const -9223372036854775803))
(assert_return (invoke "sub64" (i64.const 0x8000000000000000) (i32.const 2)) (i64.const 0))
(assert_return (invoke "frame_load" (i32.const 128) (i32.const 0)) (i32.const 1))
(assert_return (invoke "frame_load" (i32.const 128) (i32.const 3)) (i32.const 4))
(assert_return (invoke "frame_load" (i32.const 132) (i32.const 2)) (i32.const 4))
;; fp - 128 wraps below zero; the index brings it back.
(assert_return (invoke "frame_load" (i32.const 64) (i32.const 17)) (i32.const 2))
(assert_return (invoke "frame_load" (i32.const 0) (i32.const 33)) (i32.const 2))
;; Wrapping above 2^32 is not a way past the end: it reaches address 4.
(assert_return (invoke "frame_load" (i32.const 0) (i32.const 0x40000021)) (i32.const 2))
(assert_trap (invoke "frame_load" (i32.const 0) (i32.const 0)) "out of bounds memory access")
(assert_trap (invoke "frame_load" (i32.const 0x10080) (i32.const 0)) "out of bounds memory access")
(assert_return (invoke "frame_sum" (i32.const 128) (i32.const 4)) (i32.const 2))
(assert_return (invoke "frame_sum" (i32.const 132) (i32.const 3)) (i32.const -3))
;; Indices below 16 put `fp - 128 + 4 * i` below zero, far past the end.
(assert_trap (invoke "frame_sum" (i32.const 64) (i32.const 20)) "out of bounds memory access")
