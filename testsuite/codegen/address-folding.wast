;; Address folding (compiler/src/translate/memory.rs, `split_index`): an
;; i32 address `x + c` or `y << k` is widened part by part only when the
;; i32 operation provably cannot wrap. These cases sit on both sides of
;; that line: where it may wrap, the access must use the wrapped address.

(module
  (memory 1)
  (data (i32.const 0) "\01\02\03\04")
  (data (i32.const 1024) "\aa\bb\cc\dd")
  (data (i32.const 65532) "\11\22\33\44")

  ;; Provably no wrap: ((x & 0xff) << 2) + 1024, the table-lookup shape.
  (func (export "table") (param i32) (result i32)
    (i32.load (i32.add (i32.shl (i32.and (local.get 0) (i32.const 0xff)) (i32.const 2))
                       (i32.const 1024))))

  ;; (x & 0x1ff) + 0xffffff00 wraps for x & 0x1ff >= 0x100: 0x100 gives
  ;; address 0, a byte that exists.
  (func (export "wrap-add") (param i32) (result i32)
    (i32.load8_u (i32.add (i32.and (local.get 0) (i32.const 0x1ff))
                          (i32.const 0xffffff00))))

  ;; (x & 0xff) + 0xffffff00 never wraps: always far out of bounds.
  (func (export "nowrap-add") (param i32) (result i32)
    (i32.load8_u (i32.add (i32.and (local.get 0) (i32.const 0xff))
                          (i32.const 0xffffff00))))

  ;; (x & 0x1ffff) << 16 wraps for x >= 0x10000: 0x10000 << 16 == 0.
  (func (export "wrap-shl") (param i32) (result i32)
    (i32.load8_u (i32.shl (i32.and (local.get 0) (i32.const 0x1ffff)) (i32.const 16))))

  ;; A shift amount of 34 is 2 (mod 32).
  (func (export "shl-mod") (param i32) (result i32)
    (i32.load8_u (i32.add (i32.shl (i32.and (local.get 0) (i32.const 0xff)) (i32.const 34))
                          (i32.const 0))))

  ;; Narrow loads bound their value: (load8_u 0) + 65531 = 65532.
  (func (export "narrow") (result i32)
    (i32.load8_u (i32.add (i32.load8_u (i32.const 0)) (i32.const 65531))))

  ;; An unknown value plus a constant may wrap: -1 + 4 == 3.
  (func (export "unknown") (param i32) (result i32)
    (i32.load8_u (i32.add (local.get 0) (i32.const 4))))

  ;; The folded constant meets the static offset: ((x & 3) + 65528) + offset 4.
  (func (export "with-offset") (param i32) (result i32)
    (i32.load8_u offset=4 (i32.add (i32.and (local.get 0) (i32.const 3)) (i32.const 65528))))

  ;; Unsigned shift right and remainder bound their values.
  ;; (x >> 30) + 0xfffffffc never wraps; (x >> 29) + 0xfffffffc may.
  (func (export "ushr") (param i32) (result i32)
    (i32.load8_u (i32.add (i32.shr_u (local.get 0) (i32.const 30)) (i32.const 0xfffffffc))))
  (func (export "ushr-wrap") (param i32) (result i32)
    (i32.load8_u (i32.add (i32.shr_u (local.get 0) (i32.const 29)) (i32.const 0xfffffffc))))
  (func (export "urem") (param i32 i32) (result i32)
    (i32.load8_u (i32.add (i32.rem_u (local.get 0) (local.get 1)) (i32.const 65532))))

  ;; Stores fold the same way.
  (func (export "store") (param i32 i32)
    (i32.store8 (i32.add (i32.and (local.get 0) (i32.const 0x1ff)) (i32.const 0xffffff00))
                (local.get 1)))
)

(assert_return (invoke "table" (i32.const 0)) (i32.const 0xddccbbaa))
(assert_return (invoke "table" (i32.const 0x100)) (i32.const 0xddccbbaa))
(assert_return (invoke "table" (i32.const 1)) (i32.const 0))
(assert_return (invoke "wrap-add" (i32.const 0x100)) (i32.const 1))
(assert_return (invoke "wrap-add" (i32.const 0x103)) (i32.const 4))
(assert_trap (invoke "wrap-add" (i32.const 0xff)) "out of bounds memory access")
(assert_trap (invoke "nowrap-add" (i32.const 0)) "out of bounds memory access")
(assert_trap (invoke "nowrap-add" (i32.const 0xff)) "out of bounds memory access")
(assert_return (invoke "wrap-shl" (i32.const 0x10000)) (i32.const 1))
(assert_trap (invoke "wrap-shl" (i32.const 0x1)) "out of bounds memory access")
(assert_return (invoke "wrap-shl" (i32.const 0)) (i32.const 1))
(assert_return (invoke "shl-mod" (i32.const 0)) (i32.const 1))
(assert_return (invoke "shl-mod" (i32.const 1)) (i32.const 0))
(assert_return (invoke "shl-mod" (i32.const 0x3f)) (i32.const 0))
(assert_return (invoke "narrow") (i32.const 0x11))
(assert_return (invoke "unknown" (i32.const -1)) (i32.const 4))
(assert_return (invoke "unknown" (i32.const -4)) (i32.const 1))
(assert_trap (invoke "unknown" (i32.const 65532)) "out of bounds memory access")
(assert_return (invoke "with-offset" (i32.const 0)) (i32.const 0x11))
(assert_return (invoke "with-offset" (i32.const 3)) (i32.const 0x44))
(assert_return (invoke "with-offset" (i32.const 7)) (i32.const 0x44))
(assert_trap (invoke "ushr" (i32.const -1)) "out of bounds memory access")
(assert_trap (invoke "ushr" (i32.const 0)) "out of bounds memory access")
(assert_return (invoke "ushr-wrap" (i32.const 0x80000000)) (i32.const 1))
(assert_return (invoke "ushr-wrap" (i32.const -1)) (i32.const 4))
(assert_trap (invoke "ushr-wrap" (i32.const 0x60000000)) "out of bounds memory access")
(assert_return (invoke "urem" (i32.const 7) (i32.const 4)) (i32.const 0x44))
(assert_return (invoke "urem" (i32.const 4) (i32.const 4)) (i32.const 0x11))
(assert_trap (invoke "urem" (i32.const 4) (i32.const 5)) "out of bounds memory access")
(invoke "store" (i32.const 0x100) (i32.const 0x77))
(assert_return (invoke "wrap-add" (i32.const 0x100)) (i32.const 0x77))
(assert_trap (invoke "store" (i32.const 0xff) (i32.const 0x77)) "out of bounds memory access")

;; call_indirect on a table with equal limits: the length is an immediate.
(module
  (type $t (func (result i32)))
  (table 3 3 funcref)
  (elem (i32.const 0) $a $b)
  (func $a (type $t) (i32.const 10))
  (func $b (type $t) (i32.const 20))
  (func $c (param i32) (result i32) (i32.const 30))
  (elem declare func $c)
  (func (export "call") (param i32) (result i32)
    (call_indirect (type $t) (local.get 0)))
  (func (export "set-c") (table.set (i32.const 1) (ref.func $c)))
  (func (export "grow") (result i32) (table.grow (ref.null func) (i32.const 1)))
)
(assert_return (invoke "call" (i32.const 0)) (i32.const 10))
(assert_return (invoke "call" (i32.const 1)) (i32.const 20))
(assert_trap (invoke "call" (i32.const 2)) "uninitialized element")
(assert_trap (invoke "call" (i32.const 3)) "undefined element")
(assert_trap (invoke "call" (i32.const -1)) "undefined element")
(assert_return (invoke "grow") (i32.const -1))
(assert_trap (invoke "call" (i32.const 3)) "undefined element")
(invoke "set-c")
(assert_trap (invoke "call" (i32.const 1)) "indirect call type mismatch")

;; The same through an imported table of equal limits.
(module
  (type $t (func (result i32)))
  (table (export "tab") 2 2 funcref)
  (elem (i32.const 1) $f)
  (func $f (type $t) (i32.const 42)))
(register "fixed")
(module
  (type $t (func (result i32)))
  (import "fixed" "tab" (table 2 2 funcref))
  (func (export "call") (param i32) (result i32)
    (call_indirect (type $t) (local.get 0))))
(assert_return (invoke "call" (i32.const 1)) (i32.const 42))
(assert_trap (invoke "call" (i32.const 0)) "uninitialized element")
(assert_trap (invoke "call" (i32.const 2)) "undefined element")
(assert_unlinkable
  (module (import "fixed" "tab" (table 1 1 funcref)))
  "incompatible import type")
