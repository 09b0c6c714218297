;; Narrow stores of constants (compiler/src/translate/memory.rs stores a
;; constant of the narrow type so x86 can use `mov $imm, mem`): every width,
;; with the top bit of the narrow value set and clear, with bits above the
;; stored width that must be dropped, and with neighbouring bytes that must
;; stay untouched.

(module
  (memory 1)
  (func (export "fill") (i64.store (i32.const 0) (i64.const -1)) (i64.store (i32.const 8) (i64.const -1)))
  (func (export "i32.store8") (i32.store8 (i32.const 1) (i32.const 0x1234_5680)))
  (func (export "i32.store8-low") (i32.store8 (i32.const 2) (i32.const 0x7f)))
  (func (export "i32.store16") (i32.store16 (i32.const 4) (i32.const 0xabcd_8001)))
  (func (export "i64.store8") (i64.store8 (i32.const 9) (i64.const 0x1122_3344_5566_77fe)))
  (func (export "i64.store16") (i64.store16 (i32.const 10) (i64.const -2)))
  (func (export "i64.store32") (i64.store32 (i32.const 12) (i64.const 0x7fff_ffff_8000_0001)))
  (func (export "i64.store32-zero") (i64.store32 (i32.const 12) (i64.const 0x1_0000_0000)))
  (func (export "i64") (param i32) (result i64) (i64.load (local.get 0)))
)

(invoke "fill")
(invoke "i32.store8")
(assert_return (invoke "i64" (i32.const 0)) (i64.const 0xffff_ffff_ffff_80ff))
(invoke "i32.store8-low")
(assert_return (invoke "i64" (i32.const 0)) (i64.const 0xffff_ffff_ff7f_80ff))
(invoke "i32.store16")
(assert_return (invoke "i64" (i32.const 0)) (i64.const 0xffff_8001_ff7f_80ff))
(invoke "i64.store8")
(assert_return (invoke "i64" (i32.const 8)) (i64.const 0xffff_ffff_ffff_feff))
(invoke "i64.store16")
(assert_return (invoke "i64" (i32.const 8)) (i64.const 0xffff_ffff_fffe_feff))
(invoke "i64.store32")
(assert_return (invoke "i64" (i32.const 8)) (i64.const 0x8000_0001_fffe_feff))
(invoke "i64.store32-zero")
(assert_return (invoke "i64" (i32.const 8)) (i64.const 0x0000_0000_fffe_feff))
