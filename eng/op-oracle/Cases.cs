using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Tests.Frontend;
using static MicroTvm.Compiler.Ir.ElementType;
using static MicroTvm.OpOracle.Codes;
using B = MicroTvm.Compiler.Tests.Frontend.TfliteModelBuilder.Builtin;
using O = MicroTvm.Compiler.Tests.Frontend.TfliteModelBuilder.Options;

namespace MicroTvm.OpOracle;

/// <summary>
/// The cases: single operators (a few small chains) in each element type, with quantization and shapes chosen to
/// reach each of TFLM's code paths. Names are &lt;operator&gt;_&lt;type&gt;[_&lt;variant&gt;].
/// </summary>
public static class Cases
{
    private const ElementType I16 = ElementType.Int16, I32 = ElementType.Int32, I64 = ElementType.Int64;

    private static readonly (float, long) Q8 = (0.05f, 3), Q8b = (0.07f, -10), Q16 = (0.0005f, 0), Q16b = (0.0007f, 0);

    private static (float, long)? Qa(ElementType t) => t switch { Int8 => Q8, I16 => Q16, _ => null };

    private static (float, long)? Qb(ElementType t) => t switch { Int8 => Q8b, I16 => Q16b, _ => null };

    private static string N(ElementType t) => t switch
    {
        Float32 => "f32", Int8 => "i8", I16 => "i16", I32 => "i32", I64 => "i64", Bool => "bool", UInt8 => "u8",
        _ => throw new ArgumentOutOfRangeException(nameof(t)),
    };

    private static readonly ElementType[] Numeric = { Float32, Int8, I16, I32 };
    private static readonly ElementType[] AllData = { Float32, Int8, I16, I32, Bool };

    public static IEnumerable<(string, Action<CaseModel>)> All()
    {
        // ---- unary elementwise: output quantized differently from the input where TFLM requantizes
        foreach (var (name, code, lo, hi) in new[]
                 {
                     ("abs", Abs, -4.0, 4.0), ("neg", Neg, -4.0, 4.0), ("floor", Floor, -4.0, 4.0), ("ceil", Ceil, -4.0, 4.0),
                     ("round", Round, -4.0, 4.0), ("sqrt", Sqrt, 0.0, 6.0), ("rsqrt", Rsqrt, 0.05, 6.0), ("exp", Exp, -6.0, 3.0),
                     ("log", Log, 0.05, 6.0), ("square", Square, -4.0, 4.0), ("sin", Sin, -4.0, 4.0), ("cos", Cos, -4.0, 4.0),
                     ("elu", Elu, -4.0, 4.0), ("logistic", B.Logistic, -8.0, 8.0), ("tanh", B.Tanh, -4.0, 4.0),
                     ("relu", B.Relu, -4.0, 4.0), ("relu6", B.Relu6, -4.0, 8.0), ("hard_swish", B.HardSwish, -4.0, 4.0),
                 })
        {
            foreach (var t in new[] { Float32, Int8, I16, I32 })
            {
                var (c, l, h) = (code, lo, hi);
                yield return ($"{name}_{N(t)}", m =>
                {
                    // Quantized inputs cover the float range [lo, hi] roughly: scale from the range.
                    (float, long)? q = t switch
                    {
                        Int8 => ((float)((h - l) / 255), (long)Math.Round(-128 - l / ((h - l) / 255))),
                        I16 => ((float)(Math.Max(Math.Abs(l), Math.Abs(h)) / 32767), 0L),
                        _ => null,
                    };
                    (float, long)? qo = t switch { Int8 => (0.04f, -5), I16 => (0.0003f, 0), _ => null };
                    int x = m.Input(t, new[] { 1, 3, 4, 5 }, q, l, h);
                    int y = m.Output(t, new[] { 1, 3, 4, 5 }, qo);
                    m.Op(c, new[] { x }, new[] { y });
                });
            }
        }

        // logistic/tanh int16 at TFLM's own (power-of-two) scales, the path its converter writes
        foreach (var (name, code) in new[] { ("logistic", B.Logistic), ("tanh", B.Tanh) })
            yield return ($"{name}_i16_pot", m =>
            {
                int x = m.Input(I16, new[] { 1, 64 }, (8f / 32768, 0));
                int y = m.Output(I16, new[] { 1, 64 }, (name == "tanh" ? 1f / 32768 : 1f / 32768, 0));
                m.Op(code, new[] { x }, new[] { y });
            });

        // int8 LOGISTIC at the output grid TFLM requires (1/256, -128); ABS with input and output quantized alike
        yield return ("logistic_i8_std", m =>
        {
            int x = m.Input(Int8, new[] { 1, 64 }, (0.06f, 10));
            int y = m.Output(Int8, new[] { 1, 64 }, (1f / 256, -128));
            m.Op(B.Logistic, new[] { x }, new[] { y });
        });
        foreach (var t in new[] { Int8, I16 })
            yield return ($"abs_{N(t)}_same_scale", m =>
            {
                int x = m.Input(t, new[] { 2, 30 }, t == Int8 ? (0.05f, -7) : (0.0005f, 0));
                int y = m.Output(t, new[] { 2, 30 }, t == Int8 ? (0.05f, 20) : (0.0005f, 0));
                m.Op(Abs, new[] { x }, new[] { y });
            });

        foreach (var t in new[] { Float32, Int8, I16 })
        {
            yield return ($"leaky_relu_{N(t)}", m =>
            {
                int x = m.Input(t, new[] { 2, 3, 7 }, Qa(t));
                int y = m.Output(t, new[] { 2, 3, 7 }, Qb(t));
                m.Op(B.LeakyRelu, new[] { x }, new[] { y }, O.LeakyRelu(0.2f));
            });
            yield return ($"log_softmax_{N(t)}", m =>
            {
                int x = m.Input(t, new[] { 2, 10 }, Qa(t));
                int y = m.Output(t, new[] { 2, 10 }, t == Int8 ? (16f / 256, 127) : t == I16 ? (16f / 32768, 0) : null);
                m.Op(LogSoftmax, new[] { x }, new[] { y });
            });
            yield return ($"l2_normalization_{N(t)}", m =>
            {
                int x = m.Input(t, new[] { 1, 2, 3, 8 }, Qa(t));
                int y = m.Output(t, new[] { 1, 2, 3, 8 }, t == Int8 ? (1f / 128, 0) : t == I16 ? (1f / 32768, 0) : null);
                m.Op(L2Normalization, new[] { x }, new[] { y }, new O(12, new FbTable().Int8(0, 0)));
            });
            yield return ($"prelu_{N(t)}", m =>
            {
                int x = m.Input(t, new[] { 1, 3, 4, 5 }, Qa(t));
                int a = m.Const(t == Float32 ? Float32 : t, new[] { 1, 1, 5 }, t == Int8 ? (0.01f, -20) : t == I16 ? (0.0001f, 0) : null, t == Float32 ? -0.5 : 0, 0.5);
                int y = m.Output(t, new[] { 1, 3, 4, 5 }, Qb(t));
                m.Op(Prelu, new[] { x, a }, new[] { y });
            });
            yield return ($"softmax_{N(t)}", m =>
            {
                int x = m.Input(t, new[] { 3, 12 }, Qa(t) is { } q ? (q.Item1 * 4, q.Item2) : null);
                int y = m.Output(t, new[] { 3, 12 }, t == Int8 ? (1f / 256, -128) : t == I16 ? (1f / 32768, 0) : null);
                m.Op(B.Softmax, new[] { x }, new[] { y }, O.Softmax(t == Float32 ? 0.7f : 1f));
            });
        }

        yield return ("softmax_i8_to_i16", m =>
        {
            int x = m.Input(Int8, new[] { 2, 10 }, (0.1f, 5));
            int y = m.Output(I16, new[] { 2, 10 }, (1f / 65536, -32768));
            m.Op(B.Softmax, new[] { x }, new[] { y }, O.Softmax(1f));
        });

        // ---- binary elementwise, same shape and broadcast
        foreach (var (name, code, options) in new (string, int, O?)[]
                 {
                     ("add", B.Add, O.Add(0, potScaleInt16: false)), ("sub", B.Sub, O.Sub(0, potScaleInt16: false)), ("mul", B.Mul, O.Mul()),
                     ("div", B.Div, new O(29, new FbTable().Int8(0, 0))), ("squared_difference", SquaredDifference, null),
                     ("maximum", B.Maximum, null), ("minimum", B.Minimum, null), ("floor_div", FloorDiv, null), ("floor_mod", FloorMod, null),
                 })
        {
            foreach (var t in Numeric)
            {
                foreach (bool broadcast in new[] { false, true })
                {
                    var (c, o) = (code, options);
                    yield return ($"{name}_{N(t)}{(broadcast ? "_broadcast" : "")}", m =>
                    {
                        bool divides = name is "div" or "floor_div" or "floor_mod";
                        double lo = divides && t is I32 ? 1 : -4, hi = divides && t is I32 ? 20 : 4;
                        int a = m.Input(t, new[] { 2, 3, 4 }, Qa(t), lo, hi);
                        int b = m.Input(t, broadcast ? new[] { 1, 3, 1 } : new[] { 2, 3, 4 }, Qb(t), divides ? (t == I32 ? 1 : 0.5) : lo, hi);
                        int y = m.Output(t, new[] { 2, 3, 4 }, t == Int8 ? (0.09f, -2) : t == I16 ? (0.0011f, 0) : null);
                        m.Op(c, new[] { a, b }, new[] { y }, o);
                    });
                }
            }
        }

        yield return ("add_i16_pot", m =>
        {
            int a = m.Input(I16, new[] { 2, 16 }, (1f / 4096, 0));
            int b = m.Input(I16, new[] { 2, 16 }, (1f / 8192, 0));
            int y = m.Output(I16, new[] { 2, 16 }, (1f / 2048, 0));
            m.Op(B.Add, new[] { a, b }, new[] { y }, O.Add(0, potScaleInt16: true));
        });
        yield return ("add_i8_relu6", m =>
        {
            int a = m.Input(Int8, new[] { 1, 4, 4, 3 }, Q8);
            int b = m.Input(Int8, new[] { 1, 4, 4, 3 }, Q8b);
            int y = m.Output(Int8, new[] { 1, 4, 4, 3 }, (0.03f, -100));
            m.Op(B.Add, new[] { a, b }, new[] { y }, O.Add(3));
        });
        yield return ("mul_i16_relu", m =>
        {
            int a = m.Input(I16, new[] { 1, 4, 4, 3 }, Q16);
            int b = m.Input(I16, new[] { 1, 1, 1, 3 }, Q16b);
            int y = m.Output(I16, new[] { 1, 4, 4, 3 }, (0.000002f, 0));
            m.Op(B.Mul, new[] { a, b }, new[] { y }, O.Mul(1));
        });

        // ---- comparisons and logic
        foreach (var (name, code) in new[] { ("equal", Equal), ("not_equal", NotEqual), ("less", Less), ("less_equal", LessEqual), ("greater", Greater), ("greater_equal", GreaterEqual) })
        {
            foreach (var t in new[] { Float32, Int8, I16, I32, Bool })
            {
                yield return ($"{name}_{N(t)}", m =>
                {
                    int a = m.Input(t, new[] { 2, 3, 4 }, Qa(t), -3, 3);
                    int b = m.Input(t, new[] { 1, 3, 1 }, Qb(t), -3, 3);
                    int y = m.Output(Bool, new[] { 2, 3, 4 });
                    m.Op(code, new[] { a, b }, new[] { y });
                });
            }
        }

        foreach (var (name, code) in new[] { ("logical_and", LogicalAnd), ("logical_or", LogicalOr) })
            yield return ($"{name}_bool", m =>
            {
                int a = m.Input(Bool, new[] { 2, 3, 4 });
                int b = m.Input(Bool, new[] { 1, 3, 4 });
                int y = m.Output(Bool, new[] { 2, 3, 4 });
                m.Op(code, new[] { a, b }, new[] { y });
            });
        yield return ("logical_not_bool", m =>
        {
            int a = m.Input(Bool, new[] { 2, 3, 4 });
            int y = m.Output(Bool, new[] { 2, 3, 4 });
            m.Op(LogicalNot, new[] { a }, new[] { y });
        });

        foreach (var t in AllData)
            yield return ($"select_v2_{N(t)}", m =>
            {
                int cnd = m.Input(Bool, new[] { 1, 3, 1 });
                int a = m.Input(t, new[] { 2, 3, 4 }, Qa(t), -5, 5);
                int b = m.Input(t, new[] { 2, 1, 4 }, Qa(t), -5, 5);
                int y = m.Output(t, new[] { 2, 3, 4 }, Qa(t));
                m.Op(SelectV2, new[] { cnd, a, b }, new[] { y });
            });

        foreach (var t in Numeric)
            yield return ($"add_n_{N(t)}", m =>
            {
                int a = m.Input(t, new[] { 2, 3, 4 }, Qa(t), -100, 100);
                int b = m.Input(t, new[] { 2, 3, 4 }, Qa(t), -100, 100);
                int c = m.Input(t, new[] { 2, 3, 4 }, Qa(t), -100, 100);
                int y = m.Output(t, new[] { 2, 3, 4 }, Qa(t));
                m.Op(AddN, new[] { a, b, c }, new[] { y });
            });

        // ---- edges of the binary operators above: int32 wrap-around with fused activations (TFLM's int32 ADD ignores
        // its activation, SUB and MUL apply it), activations on DIV, int64 and far-apart int8 scales in comparisons,
        // SELECT_V2 without broadcasting, PRELU int16 with int8 alpha
        foreach (var (name, code, options) in new (string, int, O)[]
                 { ("add_i32_wrap_relu", B.Add, O.Add(1)), ("sub_i32_wrap_relu6", B.Sub, O.Sub(3)), ("mul_i32_wrap_relu", B.Mul, O.Mul(1)) })
        {
            var (c, o) = (code, options);
            yield return (name, m =>
            {
                int a = m.Input(I32, new[] { 4, 8 }, null, -2_000_000_000, 2_000_000_000);
                int b = m.Input(I32, new[] { 4, 8 }, null, -2_000_000_000, 2_000_000_000);
                int y = m.Output(I32, new[] { 4, 8 });
                m.Op(c, new[] { a, b }, new[] { y }, o);
            });
        }

        yield return ("div_i32_relu_n1_to_1", m =>
        {
            int a = m.Input(I32, new[] { 4, 8 }, null, -12, 12);
            int b = m.Input(I32, new[] { 1, 8 }, null, 1, 5);
            int y = m.Output(I32, new[] { 4, 8 });
            m.Op(B.Div, new[] { a, b }, new[] { y }, new O(29, new FbTable().Int8(0, 2)));
        });
        yield return ("div_f32_relu6", m =>
        {
            int a = m.Input(Float32, new[] { 4, 8 }, null, -20, 20);
            int b = m.Input(Float32, new[] { 4, 8 }, null, 0.5, 3);
            int y = m.Output(Float32, new[] { 4, 8 });
            m.Op(B.Div, new[] { a, b }, new[] { y }, new O(29, new FbTable().Int8(0, 3)));
        });
        yield return ("div_i8_relu", m =>
        {
            int a = m.Input(Int8, new[] { 4, 8 }, (0.02f, 7));
            int b = m.Input(Int8, new[] { 4, 8 }, (0.5f, -128));
            int y = m.Output(Int8, new[] { 4, 8 }, (0.01f, -20));
            m.Op(B.Div, new[] { a, b }, new[] { y }, new O(29, new FbTable().Int8(0, 1)));
        });
        foreach (var (name, code) in new[] { ("equal", Equal), ("less", Less), ("greater_equal", GreaterEqual) })
            yield return ($"{name}_i64", m =>
            {
                int a = m.Input(I64, new[] { 2, 3, 4 }, null, -3, 3);
                int b = m.Input(I64, new[] { 2, 3, 4 }, null, -3, 3);
                int y = m.Output(Bool, new[] { 2, 3, 4 });
                m.Op(code, new[] { a, b }, new[] { y });
            });
        foreach (var (name, code) in new[] { ("less_equal", LessEqual), ("not_equal", NotEqual) })
            yield return ($"{name}_i8_far_scales", m =>
            {
                int a = m.Input(Int8, new[] { 4, 16 }, (0.9f, 5));
                int b = m.Input(Int8, new[] { 4, 16 }, (0.003f, -100));
                int y = m.Output(Bool, new[] { 4, 16 });
                m.Op(code, new[] { a, b }, new[] { y });
            });
        yield return ("select_v2_i8_same_shape", m =>
        {
            int cnd = m.Input(Bool, new[] { 2, 3, 4 });
            int a = m.Input(Int8, new[] { 2, 3, 4 }, Q8);
            int b = m.Input(Int8, new[] { 2, 3, 4 }, Q8b);
            int y = m.Output(Int8, new[] { 2, 3, 4 }, Q8);
            m.Op(SelectV2, new[] { cnd, a, b }, new[] { y });
        });
        foreach (var (name, code) in new[] { ("floor_div", FloorDiv), ("floor_mod", FloorMod) })
            yield return ($"{name}_f32_negative_divisor", m =>
            {
                int a = m.Input(Float32, new[] { 4, 8 }, null, -9, 9);
                int b = m.Input(Float32, new[] { 4, 8 }, null, -4, -0.25);
                int y = m.Output(Float32, new[] { 4, 8 });
                m.Op(code, new[] { a, b }, new[] { y });
            });
        yield return ("prelu_i16_alpha_i8", m =>
        {
            int x = m.Input(I16, new[] { 1, 3, 4, 5 }, Q16);
            int a = m.Const(Int8, new[] { 1, 1, 5 }, (0.01f, -20));
            int y = m.Output(I16, new[] { 1, 3, 4, 5 }, Q16b);
            m.Op(Prelu, new[] { x, a }, new[] { y });
        });

        // ---- reductions
        foreach (var (name, code) in new[] { ("mean", B.Mean), ("sum", Sum), ("reduce_max", ReduceMax), ("reduce_min", ReduceMin) })
        {
            foreach (var t in new[] { Float32, Int8, I16, I32 })
            {
                foreach (var (variant, axes, keep, sameQ) in new[]
                         {
                             ("axes12_keep", new[] { 1, 2 }, true, true), ("axes12_keep_requant", new[] { 1, 2 }, true, false),
                             ("axes12", new[] { 1, 2 }, false, false), ("axis3", new[] { 3 }, false, true),
                             ("axis3_requant", new[] { -1 }, true, false), ("axes02", new[] { 0, 2 }, false, false),
                         })
                {
                    yield return ($"{name}_{N(t)}_{variant}", m =>
                    {
                        int[] shape = { 2, 7, 5, 6 };
                        var outShape = Enumerable.Range(0, 4).Select(d => axes.Contains(d) || axes.Contains(d - 4) ? (keep ? 1 : 0) : shape[d]).Where(v => v != 0).ToArray();
                        int x = m.Input(t, shape, Qa(t), -20, 20);
                        int ax = m.ConstInt32(axes);
                        int y = m.Output(t, outShape, sameQ ? Qa(t) : t == Int8 ? (name == "sum" ? (0.6f, -7) : (0.03f, -7)) : t == I16 ? (name == "sum" ? (0.005f, 0) : (0.0004f, 0)) : null);
                        m.Op(code, new[] { x, ax }, new[] { y }, O.Reducer(keep));
                    });
                }
            }
        }

        // the issue's global pooling: 7x7x1280 int8, axes 1 and 2, keep_dims, input and output quantized alike
        yield return ("mean_i8_global_pool_7x7x1280", m =>
        {
            int x = m.Input(Int8, new[] { 1, 7, 7, 1280 }, (0.0235f, -128));
            int ax = m.ConstInt32(1, 2);
            int y = m.Output(Int8, new[] { 1, 1, 1, 1280 }, (0.0235f, -128));
            m.Op(B.Mean, new[] { x, ax }, new[] { y }, O.Reducer(true));
        });

        foreach (var (name, code, opt) in new[] { ("arg_max", ArgMax, 40), ("arg_min", ArgMin, 57) })
            foreach (var t in new[] { Float32, Int8, I16, I32 })
                foreach (var outType in new[] { I32, I64 })
                    yield return ($"{name}_{N(t)}_to_{N(outType)}", m =>
                    {
                        int x = m.Input(t, new[] { 2, 3, 7 }, Qa(t), -50, 50);
                        int ax = m.ConstInt32(2);
                        int y = m.Output(outType, new[] { 2, 3 });
                        m.Op(code, new[] { x, ax }, new[] { y }, new O((byte)opt, new FbTable().Int8(0, outType == I32 ? 2 : 4)));
                    });

        foreach (var t in new[] { Float32, I32, Int8 })
            foreach (var (exclusive, reverse) in new[] { (false, false), (true, false), (false, true) })
                yield return ($"cumsum_{N(t)}{(exclusive ? "_exclusive" : "")}{(reverse ? "_reverse" : "")}", m =>
                {
                    int x = m.Input(t, new[] { 2, 3, 5 }, Qa(t), -20, 20);
                    int ax = m.ConstInt32(2);
                    int y = m.Output(t, new[] { 2, 3, 5 }, Qa(t));
                    m.Op(CumSum, new[] { x, ax }, new[] { y }, new O(102, new FbTable().Bool(0, exclusive).Bool(1, reverse)));
                });

        // ---- layout and data movement
        foreach (var t in AllData)
        {
            var q = Qa(t);
            yield return ($"slice_{N(t)}", m =>
            {
                int x = m.Input(t, new[] { 2, 5, 6, 3 }, q, -100, 100);
                int begin = m.ConstInt32(1, 1, 0, 1), size = m.ConstInt32(-1, 3, 4, 2);
                int y = m.Output(t, new[] { 1, 3, 4, 2 }, q);
                m.Op(Slice, new[] { x, begin, size }, new[] { y });
            });
            yield return ($"split_{N(t)}", m =>
            {
                int axis = m.ConstInt32Shaped(Array.Empty<int>(), 2);
                int x = m.Input(t, new[] { 2, 3, 6 }, q, -100, 100);
                int[] outs = Enumerable.Range(0, 3).Select(_ => m.Output(t, new[] { 2, 3, 2 }, q)).ToArray();
                m.Op(Split, new[] { axis, x }, outs, new O(35, new FbTable().Int32(0, 3)));
            });
            yield return ($"split_v_{N(t)}", m =>
            {
                int x = m.Input(t, new[] { 2, 7, 3 }, q, -100, 100);
                int sizes = m.ConstInt32(1, -1, 2);
                int axis = m.ConstInt32Shaped(Array.Empty<int>(), -2);
                int[] outs = new[] { 1, 4, 2 }.Select(s => m.Output(t, new[] { 2, s, 3 }, q)).ToArray();
                m.Op(SplitV, new[] { x, sizes, axis }, outs, new O(79, new FbTable().Int32(0, 3)));
            });
            yield return ($"pack_{N(t)}", m =>
            {
                int a = m.Input(t, new[] { 3, 4 }, q, -100, 100), b = m.Input(t, new[] { 3, 4 }, q, -100, 100);
                int y = m.Output(t, new[] { 3, 2, 4 }, q);
                m.Op(Pack, new[] { a, b }, new[] { y }, new O(59, new FbTable().Int32(0, 2).Int32(1, 1)));
            });
            yield return ($"unpack_{N(t)}", m =>
            {
                int x = m.Input(t, new[] { 3, 4, 2 }, q, -100, 100);
                int[] outs = Enumerable.Range(0, 4).Select(_ => m.Output(t, new[] { 3, 2 }, q)).ToArray();
                m.Op(Unpack, new[] { x }, outs, new O(64, new FbTable().Int32(0, 4).Int32(1, 1)));
            });
            yield return ($"gather_{N(t)}", m =>
            {
                int x = m.Input(t, new[] { 4, 5, 3 }, q, -100, 100);
                int idx = m.ConstInt32Shaped(new[] { 2, 3 }, 4, 0, 2, 2, 1, 3);
                int y = m.Output(t, new[] { 4, 2, 3, 3 }, q);
                m.Op(Gather, new[] { x, idx }, new[] { y }, new O(23, new FbTable().Int32(0, 1)));
            });
            yield return ($"gather_nd_{N(t)}", m =>
            {
                int x = m.Input(t, new[] { 4, 5, 3 }, q, -100, 100);
                int idx = m.ConstInt32Shaped(new[] { 3, 2 }, 3, 4, 0, 0, 2, 1);
                int y = m.Output(t, new[] { 3, 3 }, q);
                m.Op(GatherNd, new[] { x, idx }, new[] { y });
            });
            yield return ($"tile_{N(t)}", m =>
            {
                int x = m.Input(t, new[] { 2, 1, 3 }, q, -100, 100);
                int mult = m.ConstInt32(2, 3, 1);
                int y = m.Output(t, new[] { 4, 3, 3 }, q);
                m.Op(Tile, new[] { x, mult }, new[] { y });
            });
            yield return ($"reverse_v2_{N(t)}", m =>
            {
                int x = m.Input(t, new[] { 2, 3, 4 }, q, -100, 100);
                int ax = m.ConstInt32(1);
                int y = m.Output(t, new[] { 2, 3, 4 }, q);
                m.Op(ReverseV2, new[] { x, ax }, new[] { y });
            });
            yield return ($"broadcast_to_{N(t)}", m =>
            {
                int x = m.Input(t, new[] { 3, 1 }, q, -100, 100);
                int shape = m.ConstInt32(2, 3, 4);
                int y = m.Output(t, new[] { 2, 3, 4 }, q);
                m.Op(BroadcastTo, new[] { x, shape }, new[] { y });
            });
            yield return ($"fill_{N(t)}", m =>
            {
                int dims = m.ConstInt32(2, 3, 4);
                int v = m.Input(t, Array.Empty<int>(), q, -100, 100);
                int y = m.Output(t, new[] { 2, 3, 4 }, q);
                m.Op(Fill, new[] { dims, v }, new[] { y });
            });
            yield return ($"zeros_like_{N(t)}", m =>
            {
                int x = m.Input(t, new[] { 2, 3, 4 }, q, -100, 100);
                int y = m.Output(t, new[] { 2, 3, 4 }, q);
                m.Op(ZerosLike, new[] { x }, new[] { y });
            });
            yield return ($"strided_slice_{N(t)}_masks", m =>
            {
                int x = m.Input(t, new[] { 3, 6, 5, 4 }, q, -100, 100);
                int begin = m.ConstInt32(1, 5, 1, 2), end = m.ConstInt32(2, 0, 5, 0), strides = m.ConstInt32(1, -2, 2, 1);
                // dim 0 shrinks to index 1; dim 1 runs 5, 3, 1 (end_mask, stride -2); dim 2 runs 1, 3; dim 3 runs 2, 3 (end_mask)
                int y = m.Output(t, new[] { 3, 2, 2 }, q);
                m.Op(B.StridedSlice, new[] { x, begin, end, strides }, new[] { y }, O.StridedSlice(beginMask: 0, endMask: 0b1010, shrinkAxisMask: 0b0001));
            });
            yield return ($"transpose_{N(t)}", m =>
            {
                int x = m.Input(t, new[] { 2, 3, 4, 5 }, q, -100, 100);
                int perm = m.ConstInt32(3, 0, 2, 1);
                int y = m.Output(t, new[] { 5, 2, 4, 3 }, q);
                m.Op(B.Transpose, new[] { x, perm }, new[] { y });
            });
        }

        foreach (var t in new[] { Float32, Int8, I16, I32 })
        {
            var q = Qa(t);
            foreach (var (mode, name) in new[] { (0, "reflect"), (1, "symmetric") })
                yield return ($"mirror_pad_{N(t)}_{name}", m =>
                {
                    int x = m.Input(t, new[] { 1, 4, 5, 2 }, q, -100, 100);
                    int pads = m.ConstInt32Shaped(new[] { 4, 2 }, 0, 0, 2, 3, 3, 1, 0, 0);
                    int y = m.Output(t, new[] { 1, 9, 9, 2 }, q);
                    m.Op(MirrorPad, new[] { x, pads }, new[] { y }, new O(77, new FbTable().Int8(0, mode)));
                });
            yield return ($"pad_{N(t)}", m =>
            {
                int x = m.Input(t, new[] { 1, 3, 4, 2 }, q, -100, 100);
                int pads = m.ConstInt32Shaped(new[] { 4, 2 }, 0, 0, 1, 2, 0, 3, 1, 0);
                int y = m.Output(t, new[] { 1, 6, 7, 3 }, q);
                m.Op(B.Pad, new[] { x, pads }, new[] { y });
            });
            yield return ($"padv2_{N(t)}", m =>
            {
                int x = m.Input(t, new[] { 1, 3, 4, 2 }, q, -100, 100);
                int pads = m.ConstInt32Shaped(new[] { 4, 2 }, 0, 0, 1, 2, 0, 3, 1, 0);
                int value = m.Builder.AddTensor("v", t, Array.Empty<int>(), CaseModel.Draw(m.Random, t, 1, -3, 3), q);
                int y = m.Output(t, new[] { 1, 6, 7, 3 }, q);
                m.Op(B.PadV2, new[] { x, pads, value }, new[] { y });
            });
            yield return ($"depth_to_space_{N(t)}", m =>
            {
                int x = m.Input(t, new[] { 1, 2, 3, 8 }, q, -100, 100);
                int y = m.Output(t, new[] { 1, 4, 6, 2 }, q);
                m.Op(DepthToSpace, new[] { x }, new[] { y }, new O(94, new FbTable().Int32(0, 2)));
            });
            yield return ($"space_to_depth_{N(t)}", m =>
            {
                int x = m.Input(t, new[] { 1, 4, 6, 2 }, q, -100, 100);
                int y = m.Output(t, new[] { 1, 2, 3, 8 }, q);
                m.Op(SpaceToDepth, new[] { x }, new[] { y }, new O(19, new FbTable().Int32(0, 2)));
            });
            yield return ($"space_to_batch_nd_{N(t)}", m =>
            {
                int x = m.Input(t, new[] { 1, 5, 4, 2 }, q, -100, 100);
                int block = m.ConstInt32(2, 2);
                int pads = m.ConstInt32Shaped(new[] { 2, 2 }, 1, 0, 0, 2);
                int y = m.Output(t, new[] { 4, 3, 3, 2 }, q);
                m.Op(SpaceToBatchNd, new[] { x, block, pads }, new[] { y });
            });
            yield return ($"batch_to_space_nd_{N(t)}", m =>
            {
                int x = m.Input(t, new[] { 4, 3, 3, 2 }, q, -100, 100);
                int block = m.ConstInt32(2, 2);
                int crops = m.ConstInt32Shaped(new[] { 2, 2 }, 1, 0, 0, 2);
                int y = m.Output(t, new[] { 1, 5, 4, 2 }, q);
                m.Op(BatchToSpaceNd, new[] { x, block, crops }, new[] { y });
            });
            foreach (var (align, half) in new[] { (false, false), (true, false), (false, true) })
            {
                string v = align ? "_align_corners" : half ? "_half_pixel" : "";
                yield return ($"resize_nearest_neighbor_{N(t)}{v}", m =>
                {
                    int x = m.Input(t, new[] { 1, 3, 4, 2 }, q, -100, 100);
                    int size = m.ConstInt32(7, 5);
                    int y = m.Output(t, new[] { 1, 7, 5, 2 }, q);
                    m.Op(ResizeNearestNeighbor, new[] { x, size }, new[] { y }, new O(74, new FbTable().Bool(0, align).Bool(1, half)));
                });
                yield return ($"resize_bilinear_{N(t)}{v}", m =>
                {
                    int x = m.Input(t, new[] { 1, 3, 4, 2 }, q, -100, 100);
                    int size = m.ConstInt32(7, 5);
                    int y = m.Output(t, new[] { 1, 7, 5, 2 }, q);
                    m.Op(ResizeBilinear, new[] { x, size }, new[] { y }, new O(15, new FbTable().Bool(2, align).Bool(3, half)));
                });
            }

            yield return ($"concatenation_{N(t)}", m =>
            {
                int a = m.Input(t, new[] { 2, 3, 2 }, q, -100, 100), b = m.Input(t, new[] { 2, 3, 4 }, q, -100, 100);
                int y = m.Output(t, new[] { 2, 3, 6 }, q);
                m.Op(B.Concatenation, new[] { a, b }, new[] { y }, O.Concatenation(-1));
            });
            yield return ($"shape_{N(t)}", m =>
            {
                int x = m.Input(t, new[] { 2, 3, 4 }, q, -100, 100);
                int y = m.Output(I32, new[] { 3 });
                m.Op(Shape, new[] { x }, new[] { y }, new O(55, new FbTable().Int8(0, 2)));
            });
        }

        foreach (var t in new[] { Int8, I16 })
            yield return ($"concatenation_{N(t)}_requant", m =>
            {
                int a = m.Input(t, new[] { 2, 3 }, Qa(t)), b = m.Input(t, new[] { 2, 3 }, Qb(t));
                int y = m.Output(t, new[] { 4, 3 }, Qb(t));
                m.Op(B.Concatenation, new[] { a, b }, new[] { y }, O.Concatenation(0));
            });

        // ---- the float functions over wide ranges (exp's denormals, log near 0, sin/cos of large arguments, floor/ceil
        // beyond 2^23), ELU/RSQRT int8 at other scales, a long int8 L2 row with a zero point, a wide CAST
        foreach (var (name, code, lo, hi) in new[]
                 {
                     ("exp", Exp, -103.0, 88.0), ("log", Log, 1e-30, 3e38), ("sin", Sin, -1e5, 1e5), ("cos", Cos, -3e7, 3e7),
                     ("sqrt", Sqrt, 0.0, 3e38), ("rsqrt", Rsqrt, 1e-30, 1e30), ("elu", Elu, -90.0, 1.0), ("floor", Floor, -2e7, 2e7),
                     ("ceil", Ceil, -2e7, 2e7), ("round", Round, -1e7, 1e7), ("square", Square, -1e19, 1e19),
                 })
        {
            var (c, l, h) = (code, lo, hi);
            yield return ($"{name}_f32_edge", m =>
            {
                int x = m.Input(Float32, new[] { 4, 50 }, null, l, h);
                int y = m.Output(Float32, new[] { 4, 50 });
                m.Op(c, new[] { x }, new[] { y });
            });
        }

        foreach (var (name, code, qi, qo) in new (string, int, (float, long), (float, long))[]
                 {
                     ("elu", Elu, (0.2f, 40), (0.03f, 100)), ("rsqrt", Rsqrt, (0.5f, -128), (0.01f, -100)),
                 })
            yield return ($"{name}_i8_edge", m =>
            {
                int x = m.Input(Int8, new[] { 2, 128 }, qi);
                int y = m.Output(Int8, new[] { 2, 128 }, qo);
                m.Op(code, new[] { x }, new[] { y });
            });

        yield return ("l2_normalization_i8_edge", m =>
        {
            int x = m.Input(Int8, new[] { 3, 200 }, (0.02f, -7));
            int y = m.Output(Int8, new[] { 3, 200 }, (1f / 128, 0));
            m.Op(L2Normalization, new[] { x }, new[] { y }, new O(12, new FbTable().Int8(0, 0)));
        });
        yield return ("log_softmax_f32_edge", m =>
        {
            int x = m.Input(Float32, new[] { 3, 40 }, null, -60, 60);
            int y = m.Output(Float32, new[] { 3, 40 });
            m.Op(LogSoftmax, new[] { x }, new[] { y });
        });
        yield return ("cast_f32_to_i16_edge", m =>
        {
            int x = m.Input(Float32, new[] { 4, 25 }, null, -2e6, 2e6);
            int y = m.Output(I16, new[] { 4, 25 });
            m.Op(Cast, new[] { x }, new[] { y });
        });

        // ---- casts and (de)quantization
        foreach (var from in new[] { Float32, Int8, I16, I32, Bool })
            foreach (var to in new[] { Float32, Int8, I16, I32, Bool })
                if (from != to)
                    yield return ($"cast_{N(from)}_to_{N(to)}", m =>
                    {
                        int x = m.Input(from, new[] { 3, 7 }, null, -300, 300);
                        int y = m.Output(to, new[] { 3, 7 });
                        m.Op(Cast, new[] { x }, new[] { y });
                    });

        foreach (var (from, to, qi, qo) in new (ElementType, ElementType, (float, long)?, (float, long))[]
                 {
                     (Float32, Int8, null, (0.03f, 4)), (Float32, I16, null, (0.0002f, 0)), (Int8, Int8, (0.05f, 3), (0.03f, -9)),
                     (Int8, I16, (0.05f, 3), (0.0002f, 0)), (I16, Int8, (0.0005f, 0), (0.02f, 1)), (I16, I16, (0.0005f, 0), (0.0003f, 0)),
                     (I16, I32, (0.0005f, 0), (0.0001f, 0)), (I32, I16, (0.0001f, 0), (0.0005f, 0)),
                 })
            yield return ($"quantize_{N(from)}_to_{N(to)}", m =>
            {
                int x = m.Input(from, new[] { 4, 9 }, qi, -3, 3);
                int y = m.Output(to, new[] { 4, 9 }, qo);
                m.Op(B.Quantize, new[] { x }, new[] { y });
            });
        foreach (var t in new[] { Int8, I16 })
            yield return ($"dequantize_{N(t)}", m =>
            {
                int x = m.Input(t, new[] { 4, 9 }, Qa(t));
                int y = m.Output(Float32, new[] { 4, 9 });
                m.Op(B.Dequantize, new[] { x }, new[] { y });
            });

        // ---- matrix products and windows with int16 activations (int8 weights, int64 bias), and int8/float
        foreach (var t in new[] { Float32, Int8, I16 })
        {
            var w = t == Float32 ? Float32 : Int8;
            var biasType = t switch { Float32 => Float32, Int8 => I32, _ => I64 };
            (float, long)? qIn = t switch { Int8 => (0.02f, -3), I16 => (0.0004f, 0), _ => null };
            (float, long)? qOut = t switch { Int8 => (0.1f, 2), I16 => (0.002f, 0), _ => null };
            int Weights(CaseModel m, int[] shape, int channels, int channelDim)
            {
                if (t == Float32) return m.Const(Float32, shape);
                var scales = Enumerable.Range(0, channels).Select(i => 0.005f + 0.001f * i).ToArray();
                return m.Builder.AddTensor("w", TfliteModelBuilder.TensorTypes.Int8, shape,
                    CaseModel.Draw(m.Random, Int8, shape.Aggregate(1, (a, b) => a * b), 0, 0), scales, new long[channels], channelDim);
            }

            int Bias(CaseModel m, int channels)
            {
                if (t == Float32) return m.Const(Float32, new[] { channels });
                var scales = Enumerable.Range(0, channels).Select(i => qIn!.Value.Item1 * (0.005f + 0.001f * i)).ToArray();
                var data = biasType == I64
                    ? TfliteModelBuilder.Int64s(Enumerable.Range(0, channels).Select(_ => (long)m.Random.Next(-40000, 40000)).ToArray())
                    : TfliteModelBuilder.Int32s(Enumerable.Range(0, channels).Select(_ => m.Random.Next(-4000, 4000)).ToArray());
                return m.Builder.AddTensor("b", TfliteModelBuilder.TensorTypes.Of(biasType), new[] { channels }, data, scales, new long[channels]);
            }

            yield return ($"conv_2d_{N(t)}", m =>
            {
                int x = m.Input(t, new[] { 1, 6, 5, 3 }, qIn, -3, 3);
                int f = Weights(m, new[] { 4, 3, 3, 3 }, 4, 0);
                int y = m.Output(t, new[] { 1, 3, 3, 4 }, qOut);
                m.Op(B.Conv2D, new[] { x, f, Bias(m, 4) }, new[] { y }, O.Conv2D(O.Same, 2, 2, 1));
            });
            yield return ($"depthwise_conv_2d_{N(t)}", m =>
            {
                int x = m.Input(t, new[] { 1, 6, 5, 3 }, qIn, -3, 3);
                int f = Weights(m, new[] { 1, 3, 3, 6 }, 6, 3);
                int y = m.Output(t, new[] { 1, 4, 3, 6 }, qOut);
                m.Op(B.DepthwiseConv2D, new[] { x, f, Bias(m, 6) }, new[] { y }, O.DepthwiseConv2D(O.Valid, 1, 1, 2, 0, 1, 1));
            });
            yield return ($"transpose_conv_{N(t)}", m =>
            {
                int shape = m.ConstInt32(1, 7, 9, 4);
                int f = Weights(m, new[] { 4, 3, 3, 3 }, 4, 0);
                int x = m.Input(t, new[] { 1, 4, 5, 3 }, qIn, -3, 3);
                int y = m.Output(t, new[] { 1, 7, 9, 4 }, qOut);
                m.Op(B.TransposeConv, new[] { shape, f, x, Bias(m, 4) }, new[] { y }, O.TransposeConv(O.Same, 2, 2));
            });
            yield return ($"fully_connected_{N(t)}", m =>
            {
                int x = m.Input(t, new[] { 3, 10 }, qIn, -3, 3);
                int f = Weights(m, new[] { 6, 10 }, 1, 0);
                int y = m.Output(t, new[] { 3, 6 }, qOut);
                m.Op(B.FullyConnected, new[] { x, f, t == Float32 ? m.Const(Float32, new[] { 6 }) : BiasPerTensor(m, 6) }, new[] { y }, O.FullyConnected(1));
            });
            int BiasPerTensor(CaseModel m, int channels)
            {
                var scale = qIn!.Value.Item1 * 0.005f;
                var data = biasType == I64
                    ? TfliteModelBuilder.Int64s(Enumerable.Range(0, channels).Select(_ => (long)m.Random.Next(-40000, 40000)).ToArray())
                    : TfliteModelBuilder.Int32s(Enumerable.Range(0, channels).Select(_ => m.Random.Next(-4000, 4000)).ToArray());
                return m.Builder.AddTensor("b", TfliteModelBuilder.TensorTypes.Of(biasType), new[] { channels }, data, new[] { scale }, new long[1]);
            }

            foreach (var (name, code) in new[] { ("average_pool_2d", B.AveragePool2D), ("max_pool_2d", B.MaxPool2D) })
                yield return ($"{name}_{N(t)}", m =>
                {
                    int x = m.Input(t, new[] { 1, 7, 6, 3 }, Qa(t), -3, 3);
                    int y = m.Output(t, new[] { 1, 4, 3, 3 }, Qa(t));
                    m.Op(code, new[] { x }, new[] { y }, O.Pool2D(O.Same, 2, 2, 3, 3));
                });

            yield return ($"batch_matmul_{N(t)}", m =>
            {
                int a = m.Input(t, new[] { 2, 3, 5 }, t == I16 ? (0.0004f, 0) : qIn, -3, 3);
                int b = m.Input(t, new[] { 1, 5, 4 }, t == Int8 ? (0.03f, 0) : t == I16 ? (0.0003f, 0) : null, -3, 3);
                int y = m.Output(t, new[] { 2, 3, 4 }, qOut);
                m.Op(BatchMatMul, new[] { a, b }, new[] { y }, new O(101, new FbTable().Bool(0, false).Bool(1, false)));
            });
            yield return ($"batch_matmul_{N(t)}_adj", m =>
            {
                int a = m.Input(t, new[] { 2, 5, 3 }, t == I16 ? (0.0004f, 0) : qIn, -3, 3);
                int b = m.Input(t, new[] { 2, 4, 5 }, t == Int8 ? (0.03f, 0) : t == I16 ? (0.0003f, 0) : null, -3, 3);
                int y = m.Output(t, new[] { 2, 3, 4 }, qOut);
                m.Op(BatchMatMul, new[] { a, b }, new[] { y }, new O(101, new FbTable().Bool(0, true).Bool(1, true)));
            });
        }

        // int16 activations with an int32 bias, as some converters write
        yield return ("fully_connected_i16_bias32", m =>
        {
            int x = m.Input(I16, new[] { 2, 8 }, (0.0004f, 0));
            int f = m.Builder.AddTensor("w", TfliteModelBuilder.TensorTypes.Int8, new[] { 5, 8 }, CaseModel.Draw(m.Random, Int8, 40, 0, 0), new[] { 0.01f }, new long[1]);
            int b = m.Builder.AddTensor("b", TfliteModelBuilder.TensorTypes.Int32, new[] { 5 }, TfliteModelBuilder.Int32s(1000, -2000, 300, 0, 77), new[] { 0.000004f }, new long[1]);
            int y = m.Output(I16, new[] { 2, 5 }, (0.003f, 0));
            m.Op(B.FullyConnected, new[] { x, f, b }, new[] { y }, O.FullyConnected());
        });
    
        // GATHER/GATHER_ND with indices computed at run time (a graph input), GATHER with batch_dims and a negative axis
        foreach (var t in new[] { Float32, Int8 })
        {
            yield return ($"gather_{N(t)}_runtime_indices", m =>
            {
                int x = m.Input(t, new[] { 4, 5, 3 }, Qa(t), -100, 100);
                int idx = m.Input(I32, new[] { 2, 3 }, null, 0, 4);
                int y = m.Output(t, new[] { 4, 2, 3, 3 }, Qa(t));
                m.Op(Gather, new[] { x, idx }, new[] { y }, new O(23, new FbTable().Int32(0, 1)));
            });
            yield return ($"gather_{N(t)}_runtime_indices_batch_dims", m =>
            {
                int x = m.Input(t, new[] { 2, 5, 3 }, Qa(t), -100, 100);
                int idx = m.Input(I32, new[] { 2, 4 }, null, 0, 4);
                int y = m.Output(t, new[] { 2, 4, 3 }, Qa(t));
                m.Op(Gather, new[] { x, idx }, new[] { y }, new O(23, new FbTable().Int32(0, -2).Int32(1, 1)));
            });
            yield return ($"gather_nd_{N(t)}_runtime_indices", m =>
            {
                int x = m.Input(t, new[] { 4, 5, 3 }, Qa(t), -100, 100);
                int idx = m.Input(I32, new[] { 2, 2, 2 }, null, 0, 3);
                int y = m.Output(t, new[] { 2, 2, 3 }, Qa(t));
                m.Op(GatherNd, new[] { x, idx }, new[] { y });
            });
            yield return ($"gather_nd_{N(t)}_runtime_indices_full", m =>
            {
                int x = m.Input(t, new[] { 4, 5, 3 }, Qa(t), -100, 100);
                int idx = m.Input(I32, new[] { 6, 3 }, null, 0, 2);
                int y = m.Output(t, new[] { 6 }, Qa(t));
                m.Op(GatherNd, new[] { x, idx }, new[] { y });
            });

            // resizes that shrink (7x9 to 3x4, two batches), in every coordinate mode; nearest with both options
            foreach (var (align, half) in new[] { (false, false), (true, false), (false, true) })
            {
                string v = align ? "_align_corners" : half ? "_half_pixel" : "";
                yield return ($"resize_bilinear_{N(t)}_down{v}", m =>
                {
                    int x = m.Input(t, new[] { 2, 7, 9, 3 }, Qa(t), -100, 100);
                    int size = m.ConstInt32(3, 4);
                    int y = m.Output(t, new[] { 2, 3, 4, 3 }, Qa(t));
                    m.Op(ResizeBilinear, new[] { x, size }, new[] { y }, new O(15, new FbTable().Bool(2, align).Bool(3, half)));
                });
                yield return ($"resize_nearest_neighbor_{N(t)}_down{v}", m =>
                {
                    int x = m.Input(t, new[] { 2, 7, 9, 3 }, Qa(t), -100, 100);
                    int size = m.ConstInt32(3, 4);
                    int y = m.Output(t, new[] { 2, 3, 4, 3 }, Qa(t));
                    m.Op(ResizeNearestNeighbor, new[] { x, size }, new[] { y }, new O(74, new FbTable().Bool(0, align).Bool(1, half)));
                });
            }

            yield return ($"resize_nearest_neighbor_{N(t)}_align_half", m =>
            {
                int x = m.Input(t, new[] { 1, 3, 4, 2 }, Qa(t), -100, 100);
                int size = m.ConstInt32(7, 5);
                int y = m.Output(t, new[] { 1, 7, 5, 2 }, Qa(t));
                m.Op(ResizeNearestNeighbor, new[] { x, size }, new[] { y }, new O(74, new FbTable().Bool(0, true).Bool(1, true)));
            });

            // negative axes: reductions keeping dimensions, ARG_MAX, CUMSUM exclusive and reversed
            foreach (var (name, code) in new[] { ("sum", Sum), ("reduce_max", ReduceMax), ("reduce_min", ReduceMin), ("mean", B.Mean) })
                yield return ($"{name}_{N(t)}_neg_axes_keep", m =>
                {
                    int x = m.Input(t, new[] { 2, 7, 5, 6 }, Qa(t), -20, 20);
                    int ax = m.ConstInt32(-3, -1);
                    int y = m.Output(t, new[] { 2, 1, 5, 1 }, Qa(t));
                    m.Op(code, new[] { x, ax }, new[] { y }, O.Reducer(true));
                });
            yield return ($"arg_max_{N(t)}_to_i32_neg_axis", m =>
            {
                int x = m.Input(t, new[] { 2, 6, 3 }, Qa(t), -50, 50);
                int ax = m.ConstInt32(-2);
                int y = m.Output(I32, new[] { 2, 3 });
                m.Op(ArgMax, new[] { x, ax }, new[] { y }, new O(40, new FbTable().Int8(0, 2)));
            });
            yield return ($"cumsum_{N(t)}_neg_axis_exclusive_reverse", m =>
            {
                int x = m.Input(t, new[] { 2, 3, 5 }, Qa(t), -20, 20);
                int ax = m.ConstInt32(-2);
                int y = m.Output(t, new[] { 2, 3, 5 }, t == Int8 ? (0.2f, 5) : null);
                m.Op(CumSum, new[] { x, ax }, new[] { y }, new O(102, new FbTable().Bool(0, true).Bool(1, true)));
            });
        }

        // BATCH_MATMUL with operands of different ranks whose batch dimensions broadcast both ways
        foreach (var t in new[] { Float32, Int8 })
            yield return ($"batch_matmul_{N(t)}_broadcast_rank4", m =>
            {
                int a = m.Input(t, new[] { 2, 1, 3, 5 }, t == Int8 ? (0.02f, -3) : null, -3, 3);
                int b = m.Input(t, new[] { 3, 5, 4 }, t == Int8 ? (0.03f, 0) : null, -3, 3);
                int y = m.Output(t, new[] { 2, 3, 3, 4 }, t == Int8 ? (0.1f, 2) : null);
                m.Op(BatchMatMul, new[] { a, b }, new[] { y }, new O(101, new FbTable().Bool(0, false).Bool(1, false)));
            });

        // UNIDIRECTIONAL_SEQUENCE_LSTM from the initial state: batch and time major, two batches, cell clip, cell state
        // scales 2^-11, 2^-12, 2^-15 and one that is not a power of two (TFLM rounds its log2); int8 with an
        // asymmetric hidden state; 16x8 with int64 biases; float32.
        foreach (var (variant, t, timeMajor, batch, time, features, units, clip, cellScale) in new[]
                 {
                     ("clip_b2", Int8, false, 2, 6, 7, 9, 2.5f, 1f / 4096), ("time_major", Int8, true, 2, 5, 8, 12, 0f, 1f / 2048),
                     ("cell_not_pot", Int8, false, 1, 7, 5, 6, 0f, 0.00011f), ("cell_2p15", Int8, false, 1, 7, 5, 6, 0f, 1f / 32768),
                     ("b2", I16, false, 2, 5, 6, 7, 0f, 1f / 4096), ("time_major_clip", I16, true, 2, 4, 9, 5, 1.5f, 1f / 2048),
                     ("clip_b2", Float32, false, 2, 5, 6, 7, 1.2f, 0f), ("time_major", Float32, true, 3, 4, 5, 8, 0f, 0f),
                 })
        {
            yield return ($"unidirectional_sequence_lstm_{N(t)}_{variant}", m => Lstm(m, t, timeMajor, batch, time, features, units, clip, cellScale));
        }
    }

    /// <summary>An LSTM's 24 operands: input, 8 weight matrices, 4 biases, the two state tensors (variable), the
    /// peephole, projection and layer-norm operands absent (-1) as TFLM requires.</summary>
    private static void Lstm(CaseModel m, ElementType t, bool timeMajor, int batch, int time, int features, int units, float clip, float cellScale)
    {
        bool f = t == Float32;
        var operands = Enumerable.Repeat(-1, 24).ToArray();
        var shape = timeMajor ? new[] { time, batch, features } : new[] { batch, time, features };
        (float, long)? activation = t switch { Int8 => (0.0078f, -3), I16 => (1f / 16384, 0), _ => null };
        operands[0] = m.Input(t, shape, t switch { Int8 => (0.03f, 7), I16 => (1f / 8192, 0), _ => null }, -3, 3);
        for (int g = 0; g < 8; g++)
        {
            int depth = g < 4 ? features : units;
            operands[1 + g] = f
                ? m.Const(Float32, new[] { units, depth }, null, -0.6, 0.6)
                : m.Builder.AddTensor("w", TfliteModelBuilder.TensorTypes.Int8, new[] { units, depth }, CaseModel.Draw(m.Random, Int8, units * depth, 0, 0), new[] { 0.004f + 0.002f * g }, new long[1]);
        }

        var biasType = t switch { Int8 => I32, I16 => I64, _ => Float32 };
        for (int g = 0; g < 4; g++)
            operands[12 + g] = m.Builder.AddTensor("b", biasType, new[] { units },
                CaseModel.Draw(m.Random, biasType, units, f ? -1 : t == I16 ? -200000 : -3000, f ? 1 : t == I16 ? 200000 : 3000));
        operands[18] = f
            ? m.Builder.AddTensor("h", TfliteModelBuilder.TensorTypes.Float32, new[] { batch, units }, isVariable: true)
            : m.Builder.AddTensor("h", TfliteModelBuilder.TensorTypes.Of(t), new[] { batch, units }, scales: new[] { activation!.Value.Item1 }, zeroPoints: new[] { activation.Value.Item2 }, isVariable: true);
        operands[19] = f
            ? m.Builder.AddTensor("c", TfliteModelBuilder.TensorTypes.Float32, new[] { batch, units }, isVariable: true)
            : m.Builder.AddTensor("c", TfliteModelBuilder.TensorTypes.Int16, new[] { batch, units }, scales: new[] { cellScale }, zeroPoints: new long[1], isVariable: true);
        int y = m.Output(t, new[] { shape[0], shape[1], units }, activation);
        m.Op(UnidirectionalSequenceLstm, operands, new[] { y }, new O(71, new FbTable().Int8(0, 4 /* TANH */).Float32(1, clip).Float32(2, 0f).Bool(3, timeMajor)));
}
}
