;; Loaded pointers (compiler/src/zext.rs): an `i32.load` whose value is
;; also used as an address becomes a zero-extending 64-bit load, read as an
;; i32 where the value is used as a number. Pointers with the top bit set
;; must stay zero-extended (a sign extension would reach below the memory),
;; the loaded value must still be right as a number, and a load that traps
;; must still trap.

(module
  (memory 1)
  ;; A linked list at 16: each node is (next, value).
  (data (i32.const 16) "\18\00\00\00\01\00\00\00")   ;; 16: next 24, value 1
  (data (i32.const 24) "\20\00\00\00\02\00\00\00")   ;; 24: next 32, value 2
  (data (i32.const 32) "\28\00\00\00\03\00\00\00")   ;; 32: next 40, value 3
  (data (i32.const 40) "\00\00\00\00\04\00\00\00")   ;; 40: end, value 4
  ;; 64: a pointer with the top bit set; 68: one just below 4 GiB;
  ;; 72: one past the memory's end.
  (data (i32.const 64) "\00\00\00\80")
  (data (i32.const 68) "\f0\ff\ff\ff")
  (data (i32.const 72) "\00\00\01\00")
  ;; 80: a pointer to 16, stored where its value is also summed.
  (data (i32.const 80) "\10\00\00\00")

  ;; Sums the list's values and its pointers: every `next` is both an
  ;; address and a number.
  (func (export "walk") (param $p i32) (result i32)
    (local $sum i32)
    (block $end
      (loop $l
        (br_if $end (i32.eqz (local.get $p)))
        (local.set $sum (i32.add (local.get $sum)
          (i32.add (i32.load offset=4 (local.get $p)) (local.get $p))))
        (local.set $p (i32.load (local.get $p)))
        (br $l)))
    (local.get $sum))

  ;; Loads a pointer, returns it as a number and dereferences it.
  (func (export "deref") (param $at i32) (result i64)
    (local $p i32)
    (local.set $p (i32.load (local.get $at)))
    (i64.or
      (i64.shl (i64.extend_i32_u (local.get $p)) (i64.const 32))
      (i64.extend_i32_u (i32.load (local.get $p)))))

  ;; The loaded value as a signed number and as an address.
  (func (export "signed-and-address") (param $at i32) (result i64)
    (local $p i32)
    (local.set $p (i32.load (local.get $at)))
    (i64.add (i64.extend_i32_s (local.get $p))
             (i64.extend_i32_u (i32.load8_u (local.get $p)))))

  ;; The pointer load itself out of bounds.
  (func (export "load-oob") (result i32)
    (i32.load (i32.load (i32.const 65534))))
)

(assert_return (invoke "walk" (i32.const 16)) (i32.const 122))
(assert_return (invoke "walk" (i32.const 40)) (i32.const 44))
(assert_return (invoke "walk" (i32.const 0)) (i32.const 0))
(assert_return (invoke "deref" (i32.const 80)) (i64.const 0x0000001000000018))
(assert_return (invoke "deref" (i32.const 16)) (i64.const 0x0000001800000020))
(assert_trap (invoke "deref" (i32.const 64)) "out of bounds memory access")
(assert_trap (invoke "deref" (i32.const 68)) "out of bounds memory access")
(assert_trap (invoke "deref" (i32.const 72)) "out of bounds memory access")
(assert_return (invoke "signed-and-address" (i32.const 80)) (i64.const 40))
(assert_trap (invoke "signed-and-address" (i32.const 64)) "out of bounds memory access")
(assert_trap (invoke "load-oob") "out of bounds memory access")
