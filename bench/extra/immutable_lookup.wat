;; The "immutable lookup table" kernel (hand-written: C cannot place data in
;; a second memory). Memory 0 is read-write scratch; memory 1 holds a
;; 256-entry i32 table at 0 and four i32 coefficients at 1024, from a data
;; segment, and is never written by code. bench/run.py compiles this module
;; twice with wasm2o: as is, and with --memory-control "memory 1 immutable",
;; where every load from memory 1 is marked read-only, so loads of the same
;; address can be merged across the stores to memory 0 and the call below.
;; The loop re-reads the same table entries and coefficients on purpose.
;; Export `run`: [] -> [i64], a checksum both builds must agree on.
(module
  (memory $work 1)
  (memory $table 1)
  (data (memory $table) (i32.const 0)
    "\38\b4\e6\52\e4\4d\a7\f2\37\0d\9e\26\0e\27\13\65\50\a4\a3\a6\d0\7f\5c\0c\33\2f\8b\12\24\08\3f\d2"
    "\2b\90\2f\89\11\e8\18\18\f8\c9\9d\5d\5d\98\31\95\75\04\d9\0e\94\5d\e2\e8\f5\4e\e7\81\cc\75\f6\36"
    "\d8\50\99\09\5a\a3\00\16\5a\67\03\6f\9b\54\0d\6b\8f\0b\e2\11\24\17\9c\3d\d9\f7\38\17\ce\6e\11\8d"
    "\26\4a\ad\6c\b6\dd\21\0f\af\94\ac\d3\cf\92\c1\90\23\7c\b1\1f\5d\10\8c\f2\59\30\26\39\38\b3\70\a1"
    "\b5\76\9f\a0\f1\48\3f\95\a9\0d\9d\f2\f1\30\d6\0f\cf\04\bd\93\f5\0a\e6\95\14\da\8c\65\9c\e2\b1\0c"
    "\cc\da\eb\f9\90\d1\98\38\b0\d7\ec\0b\3e\97\81\8e\cb\96\c4\db\ad\be\17\22\96\d5\23\4a\42\b2\4c\6b"
    "\a4\e6\ed\24\ec\63\6a\8a\c0\a1\27\1e\58\66\27\92\38\aa\f8\4e\58\05\6d\8f\2f\a8\ed\d0\94\ba\97\ae"
    "\8b\15\44\2e\e2\db\61\1a\91\bf\e3\94\69\73\3a\92\47\d5\8f\a3\c5\50\18\30\03\72\55\5f\d2\35\f1\18"
    "\29\fb\38\8c\22\e4\4c\b6\37\f0\12\10\c3\70\7a\90\b4\05\42\0f\b1\69\77\9e\df\b5\b9\34\24\05\15\7f"
    "\54\b1\2e\ae\62\d1\1e\88\7e\b0\76\6d\18\77\f8\c6\ef\f2\6b\50\10\af\31\77\d1\61\e7\95\87\a7\66\ec"
    "\30\e4\03\74\58\a9\90\5c\ad\87\bd\4c\77\e2\98\3f\27\74\5c\cb\9a\31\05\2e\94\4c\f1\b2\20\ea\a2\c7"
    "\fb\1b\7d\3e\3f\73\f4\14\af\6e\0d\93\55\20\dd\4c\21\47\73\86\06\f2\bf\7e\c7\02\09\e0\cd\05\ee\57"
    "\20\ed\bc\ba\3a\cc\e6\72\08\4a\b6\49\fc\bc\e4\9b\38\bd\ec\fa\ce\4a\bd\12\10\8f\39\1e\bc\07\0e\83"
    "\e8\18\0a\6b\d4\f4\3a\2a\ff\fc\d3\c1\2e\f8\90\57\55\75\e8\26\e2\cb\ea\ee\82\af\2c\7d\69\6c\f4\6b"
    "\97\7c\09\0a\f4\e1\46\f6\d0\31\10\ab\86\ef\de\13\9e\ea\ba\c3\7a\0d\de\8e\f2\d3\b1\92\5e\13\02\ca"
    "\57\50\1f\e0\ca\9a\7f\d1\cc\c1\51\50\42\42\12\57\8f\e0\fe\b1\7b\4a\a5\59\cd\9f\28\98\4b\14\26\7f"
    "\1b\03\74\94\dd\1c\01\cc\6a\df\c9\74\d1\72\9a\11\fe\20\08\d7\37\e8\f5\17\d6\9e\d6\f1\81\bd\1a\45"
    "\29\82\5e\79\45\59\71\b2\1a\e1\05\aa\b2\d6\a3\10\0b\08\88\0f\0f\42\2d\bb\36\fb\94\b3\cb\6d\42\4f"
    "\81\3c\aa\a5\b3\48\f4\93\0b\89\3b\fe\33\8f\65\ae\a5\a9\69\d2\70\83\15\72\af\40\db\48\52\eb\74\b7"
    "\4f\3a\c3\62\88\12\15\e3\1e\d3\2c\ab\3d\56\d5\58\07\af\c6\05\35\58\ce\f0\92\a9\31\76\29\b2\ff\5a"
    "\e6\37\05\2b\38\39\65\9c\78\fd\f9\1d\0a\aa\62\7e\00\a3\17\0f\fb\76\dc\37\c1\ea\aa\c4\99\23\95\49"
    "\cf\70\1c\21\e6\61\05\bd\83\af\63\3f\50\9f\dc\65\9c\47\15\64\d2\77\b4\ea\b0\82\15\df\3c\10\1b\7f"
    "\e7\f9\a0\14\1a\fb\96\2a\02\f2\fd\72\76\28\d2\66\11\18\a8\8c\1f\77\20\47\59\71\25\e2\7e\97\0d\23"
    "\d9\52\bc\d1\b0\aa\36\6e\09\16\2e\dd\5f\30\db\8c\4d\9a\46\47\3a\6a\d6\b4\4d\df\50\6a\4a\1b\89\fc"
    "\40\6d\d8\5b\24\f0\c6\ae\05\76\5a\e2\c9\99\64\61\5d\df\2d\f5\ff\87\12\3b\bd\c0\a2\26\2a\7c\3e\15"
    "\f0\9a\1c\2d\bd\7d\bb\26\76\86\61\3b\89\8c\94\a8\ea\e9\bb\3b\9e\90\16\03\7f\84\26\7c\2e\8c\c2\d4"
    "\5f\cc\d0\96\cf\05\ae\2e\c5\5c\43\43\bc\9c\2c\48\59\47\0c\01\4e\0c\4b\25\ef\13\40\6b\01\f4\da\88"
    "\ed\66\87\5e\f7\aa\1c\9c\11\bd\fb\90\f5\88\90\51\c0\39\fe\f3\26\36\20\20\2d\31\c4\b0\b2\a8\f4\db"
    "\16\3f\f7\83\7a\e0\41\f3\f4\8e\1a\9e\c2\e1\ab\a7\db\72\1b\ad\81\88\62\bd\65\7a\d2\0d\5d\9a\e6\74"
    "\8f\cb\47\e6\34\83\f8\de\91\14\ac\c7\b6\d0\ae\f3\93\18\e0\df\7f\2b\3a\ae\a3\69\41\cc\c8\6e\2c\8f"
    "\a3\f1\72\64\23\e4\e7\65\04\7a\23\66\ad\0c\e5\64\2c\68\81\1a\5c\14\45\7b\0b\cd\60\a2\86\68\83\66"
    "\28\79\ef\0f\7d\c9\cb\30\7d\b1\3d\11\0d\2d\13\fc\0a\81\71\35\31\ec\cc\70\a5\b3\8c\29\f9\42\24\1c"
    "\b1\79\37\9e\6b\ca\eb\85\35\ae\b2\c2\2f\eb\d4\27")

  (func $mix (param $v i32) (result i32)
    (i32.xor (i32.rotl (i32.mul (local.get $v) (i32.const 0x2545F491)) (i32.const 5))
             (i32.shr_u (local.get $v) (i32.const 15))))

  (func (export "run") (result i64)
    (local $i i32) (local $x i32) (local $y i32) (local $v i32) (local $acc i64)
    (local.set $x (i32.const 12345))
    ;; read the coefficients once before the loop
    (local.set $acc (i64.extend_i32_u
      (i32.add (i32.add (i32.load $table offset=1024 (i32.const 0))
                        (i32.load $table offset=1028 (i32.const 0)))
               (i32.add (i32.load $table offset=1032 (i32.const 0))
                        (i32.load $table offset=1036 (i32.const 0))))))
    (loop $next
      (local.set $y (i32.shl (i32.shr_u (local.get $x) (i32.const 24)) (i32.const 2)))
      (local.set $v (i32.add (i32.load $table (local.get $y))
                             (i32.mul (local.get $x) (i32.load $table offset=1024 (i32.const 0)))))
      (i32.store $work (i32.shl (i32.and (local.get $i) (i32.const 1023)) (i32.const 2)) (local.get $v))
      ;; the same entry and a coefficient again, after a store
      (local.set $v (i32.xor (local.get $v)
                             (i32.add (i32.load $table offset=1028 (i32.const 0))
                                      (i32.load $table (local.get $y)))))
      (local.set $v (call $mix (local.get $v)))
      ;; and again after a call
      (local.set $v (i32.add (local.get $v)
                             (i32.mul (i32.load $table offset=1032 (i32.const 0))
                                      (i32.load $table (local.get $y)))))
      (i32.store $work
        (i32.shl (i32.and (i32.add (local.get $i) (i32.const 512)) (i32.const 1023)) (i32.const 2))
        (local.get $v))
      (local.set $x (i32.xor (i32.xor (local.get $v) (i32.load $table offset=1036 (i32.const 0)))
                             (i32.load $table (i32.xor (local.get $y) (i32.const 4)))))
      (local.set $acc (i64.add (local.get $acc) (i64.extend_i32_u (local.get $x))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $next (i32.lt_u (local.get $i) (i32.const 30000000))))
    (i64.add (local.get $acc) (i64.extend_i32_u (i32.load $work (i32.const 4)))))
)
