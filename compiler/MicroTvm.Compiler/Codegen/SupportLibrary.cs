namespace MicroTvm.Compiler.Codegen;

/// <summary>
/// Small C helpers the kernels share (TFLite's fixed-point arithmetic, rounding). Each generated model gets the
/// ones it uses as <c>static</c> functions, so the source stays self-contained and models never clash.
/// The arithmetic mirrors <see cref="Quantization.FixedPoint"/> exactly.
/// </summary>
internal sealed class SupportLibrary
{
    private readonly SortedSet<string> _used = new(StringComparer.Ordinal);

    public void Use(string helper)
    {
        if (!Definitions.ContainsKey(helper)) throw new ArgumentException($"unknown helper {helper}", nameof(helper));
        if (!_used.Add(helper)) return;
        foreach (var dependency in Dependencies.GetValueOrDefault(helper, Array.Empty<string>())) Use(dependency);
    }

    public bool Uses(string helper) => _used.Contains(helper);

    /// <summary>The model's source calls memcpy (and includes string.h).</summary>
    public bool UsesMemcpy { get; private set; }

    public void UseMemcpy() => UsesMemcpy = true;

    /// <summary>The definitions in dependency order (fixed order: deterministic output).</summary>
    public string Code()
    {
        var writer = new CodeWriter();
        foreach (var name in Order.Where(_used.Contains))
        {
            writer.Lines(Definitions[name]);
            writer.Line();
        }

        return writer.ToString();
    }

    private static string SoftmaxRow(string name, string type, int bits, int min, int max) => $$"""
        /* TFLite's quantized softmax over one row of int8 values into {{type}} (zero point at the type's minimum). */
        static void {{name}}(const int8_t* input, {{type}}* output, int depth,
                                     int32_t beta_multiplier, int beta_left_shift, int32_t diff_min) {
            int32_t max_in_row = -128;
            int32_t sum_of_exps = 0; /* Q12.19 */
            int c;
            for (c = 0; c < depth; ++c) if (input[c] > max_in_row) max_in_row = input[c];
            for (c = 0; c < depth; ++c) {
                const int32_t diff = (int32_t)input[c] - max_in_row;
                if (diff >= diff_min) {
                    const int32_t scaled_diff = mbqm_gt_one(diff, beta_multiplier, beta_left_shift);
                    sum_of_exps += rdbpot(exp_on_negative_values(scaled_diff), 12);
                }
            }
            {
                const int headroom_plus_one = clz32((uint32_t)sum_of_exps);
                const int num_bits_over_unit = 12 - headroom_plus_one;
                const int32_t shifted_sum_minus_one =
                    (int32_t)(((uint32_t)sum_of_exps << headroom_plus_one) - ((uint32_t)1 << 31));
                const int32_t shifted_scale = one_over_one_plus_x(shifted_sum_minus_one);
                for (c = 0; c < depth; ++c) {
                    const int32_t diff = (int32_t)input[c] - max_in_row;
                    if (diff >= diff_min) {
                        const int32_t scaled_diff = mbqm_gt_one(diff, beta_multiplier, beta_left_shift);
                        const int32_t exp_in_0 = exp_on_negative_values(scaled_diff);
                        int32_t out = rdbpot(srdhm(shifted_scale, exp_in_0), num_bits_over_unit + 31 - {{bits}}) + ({{min}});
                        if (out < {{min}}) out = {{min}};
                        if (out > {{max}}) out = {{max}};
                        output[c] = ({{type}})out;
                    } else {
                        output[c] = {{min}};
                    }
                }
            }
        }
        """;

    private static readonly string[] Order =
    {
        "min_max", "srdhm", "rdbpot", "mbqm", "mbqm64", "mbqm_gt_one", "sat_shift_left", "round_half_away_f",
        "clz32", "exp_neg_quarter", "exp_on_negative_values", "one_over_one_plus_x", "softmax_int8", "softmax_int8_int16", "exp_f32", "tanh_f32", "lut16",
        "dsp", "requantize", "dsp_requantize", "mve_vector", "mve", "dsp_add", "helium_add", "pool_mean", "dsp_pool", "helium_pool",
    };

    private static readonly Dictionary<string, string[]> Dependencies = new()
    {
        ["mbqm"] = new[] { "srdhm", "rdbpot" },
        ["mve"] = new[] { "mve_vector" },
        ["helium_add"] = new[] { "mve_vector" },
        ["dsp_pool"] = new[] { "dsp", "dsp_add" },
        ["helium_pool"] = new[] { "mve", "pool_mean" },
        ["tanh_f32"] = new[] { "exp_f32" },
        ["mbqm_gt_one"] = new[] { "srdhm" },
        ["exp_neg_quarter"] = new[] { "srdhm", "rdbpot" },
        ["exp_on_negative_values"] = new[] { "exp_neg_quarter", "sat_shift_left", "srdhm" },
        ["one_over_one_plus_x"] = new[] { "srdhm", "sat_shift_left" },
        ["softmax_int8"] = new[] { "clz32", "exp_on_negative_values", "one_over_one_plus_x", "mbqm_gt_one", "rdbpot" },
        ["softmax_int8_int16"] = new[] { "clz32", "exp_on_negative_values", "one_over_one_plus_x", "mbqm_gt_one", "rdbpot" },
    };

    private static readonly Dictionary<string, string> Definitions = new()
    {
        ["dsp"] = Kernels.DspSupport.Intrinsics,
        ["requantize"] = Kernels.DspSupport.Requantize,
        ["mve_vector"] = Kernels.HeliumSupport.Vector,
        ["dsp_requantize"] = Kernels.DspRequantization.Helpers,
        ["mve"] = Kernels.HeliumSupport.Helium,
        ["dsp_add"] = Kernels.DspAddKernel.Support,
        ["helium_add"] = Kernels.HeliumAddKernel.Support,
        ["pool_mean"] = Kernels.DspPoolKernel.Mean,
        ["dsp_pool"] = Kernels.DspPoolKernel.DspSupport,
        ["helium_pool"] = Kernels.DspPoolKernel.HeliumSupport,
        ["min_max"] = """
            static inline int32_t min_i32(int32_t a, int32_t b) { return a < b ? a : b; }
            static inline int32_t max_i32(int32_t a, int32_t b) { return a > b ? a : b; }
            static inline float min_f32(float a, float b) { return a < b ? a : b; }
            static inline float max_f32(float a, float b) { return a > b ? a : b; }
            """,
        ["srdhm"] = """
            /* (a * b * 2) / 2^32, rounded to nearest; saturates the single overflow case. */
            static inline int32_t srdhm(int32_t a, int32_t b) {
                if (a == b && a == INT32_MIN) return INT32_MAX;
                const int64_t ab = (int64_t)a * (int64_t)b;
                const int64_t nudge = ab >= 0 ? ((int64_t)1 << 30) : (1 - ((int64_t)1 << 30));
                return (int32_t)((ab + nudge) / ((int64_t)1 << 31));
            }
            """,
        ["rdbpot"] = """
            /* x / 2^exponent rounded to nearest, ties away from zero. */
            static inline int32_t rdbpot(int32_t x, int exponent) {
                const int32_t mask = (int32_t)(((int64_t)1 << exponent) - 1);
                const int32_t remainder = x & mask;
                const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
                return (x >> exponent) + (remainder > threshold ? 1 : 0);
            }
            """,
        ["mbqm"] = """
            /* x * multiplier * 2^(shift - 31), TFLite's requantization. */
            static inline int32_t mbqm(int32_t x, int32_t multiplier, int shift) {
                const int left = shift > 0 ? shift : 0;
                const int right = shift > 0 ? 0 : -shift;
                return rdbpot(srdhm((int32_t)((uint32_t)x << left), multiplier), right);
            }
            """,
        ["mbqm64"] = """
            /* The 64-bit accumulator variant (16x8 layers): the multiplier reduced to 16 bits, one rounding shift. */
            static inline int32_t mbqm64(int64_t x, int32_t multiplier, int shift) {
                const int64_t reduced = multiplier < 0x7FFF0000 ? ((int64_t)multiplier + (1 << 15)) >> 16 : 0x7FFF;
                const int total_shift = 15 - shift;
                const int64_t round = (int64_t)1 << (total_shift - 1);
                return (int32_t)((x * reduced + round) >> total_shift);
            }
            """,
        ["mbqm_gt_one"] = """
            static inline int32_t mbqm_gt_one(int32_t x, int32_t multiplier, int left_shift) {
                return srdhm((int32_t)((uint32_t)x << left_shift), multiplier);
            }
            """,
        ["sat_shift_left"] = """
            /* x * 2^exponent saturated to int32 (exponent in 1..30). */
            static inline int32_t sat_shift_left(int32_t x, int exponent) {
                const int32_t threshold = (int32_t)(((int32_t)1 << (31 - exponent)) - 1);
                if (x > threshold) return INT32_MAX;
                if (x < -threshold) return INT32_MIN;
                return (int32_t)((uint32_t)x << exponent);
            }
            """,
        ["round_half_away_f"] = """
            /* round(x) for |x| < 2^31 without libm: nearest integer, ties away from zero. */
            static inline int32_t round_half_away_f(float x) {
                const int32_t t = (int32_t)x;
                const float frac = x - (float)t;
                if (frac >= 0.5f) return t + 1;
                if (frac <= -0.5f) return t - 1;
                return t;
            }
            """,
        ["clz32"] = """
            /* Number of leading zero bits (32 for 0); portable, no compiler builtin. */
            static inline int clz32(uint32_t x) {
                int n = 0;
                if (x == 0) return 32;
                while (!(x & 0x80000000u)) { x <<= 1; ++n; }
                return n;
            }
            """,
        ["exp_neg_quarter"] = """
            /* exp(a) for a in [-1/4, 0), a and the result in Q0.31. */
            static inline int32_t exp_neg_quarter(int32_t a) {
                const int32_t constant_term = 1895147668;   /* exp(-1/8) */
                const int32_t one_third = 715827883;
                const int32_t x = a + (1 << 28);             /* a + 1/8 */
                const int32_t x2 = srdhm(x, x);
                const int32_t x3 = srdhm(x2, x);
                const int32_t x4 = srdhm(x2, x2);
                const int32_t x4_over_4 = rdbpot(x4, 2);
                const int32_t poly = rdbpot(srdhm(x4_over_4 + x3, one_third) + x2, 1);
                return constant_term + srdhm(constant_term, x + poly);
            }
            """,
        ["exp_on_negative_values"] = """
            /* exp(a) for a <= 0 given with 5 integer bits (Q5.26); result in Q0.31. */
            static inline int32_t exp_on_negative_values(int32_t a) {
                const int32_t one_quarter = (int32_t)1 << 24;
                const int32_t mask = one_quarter - 1;
                const int32_t a_mod_quarter_minus_one_quarter = (a & mask) - one_quarter;
                int32_t result = exp_neg_quarter(sat_shift_left(a_mod_quarter_minus_one_quarter, 5));
                const int32_t remainder = a_mod_quarter_minus_one_quarter - a;
                if (remainder & ((int32_t)1 << 24)) result = srdhm(result, 1672461947); /* exp(-1/4) */
                if (remainder & ((int32_t)1 << 25)) result = srdhm(result, 1302514674); /* exp(-1/2) */
                if (remainder & ((int32_t)1 << 26)) result = srdhm(result, 790015084);  /* exp(-1) */
                if (remainder & ((int32_t)1 << 27)) result = srdhm(result, 290630308);  /* exp(-2) */
                if (remainder & ((int32_t)1 << 28)) result = srdhm(result, 39332535);   /* exp(-4) */
                if (remainder & ((int32_t)1 << 29)) result = srdhm(result, 720401);     /* exp(-8) */
                if (remainder & ((int32_t)1 << 30)) result = srdhm(result, 242);        /* exp(-16) */
                return a == 0 ? INT32_MAX : result;
            }
            """,
        ["one_over_one_plus_x"] = """
            /* 1 / (1 + x) for x in [0, 1), x and the result in Q0.31 (Newton-Raphson, three steps). */
            static inline int32_t one_over_one_plus_x(int32_t a) {
                const int64_t sum = (int64_t)a + INT32_MAX;
                const int32_t half_denominator = (int32_t)((sum + (sum >= 0 ? 1 : -1)) / 2);
                const int32_t constant_48_over_17 = 1515870810;    /* Q2.29 */
                const int32_t constant_neg_32_over_17 = -1010580540; /* Q2.29 */
                int32_t x = constant_48_over_17 + srdhm(half_denominator, constant_neg_32_over_17);
                int i;
                for (i = 0; i < 3; ++i) {
                    const int32_t half_denominator_times_x = srdhm(half_denominator, x);
                    const int32_t one_minus = ((int32_t)1 << 29) - half_denominator_times_x;
                    x = x + sat_shift_left(srdhm(x, one_minus), 2);
                }
                return sat_shift_left(x, 1);
            }
            """,
        ["softmax_int8"] = SoftmaxRow("softmax_int8_row", "int8_t", 8, -128, 127),
        ["softmax_int8_int16"] = SoftmaxRow("softmax_int8_int16_row", "int16_t", 16, -32768, 32767),
        ["lut16"] = """
            /* TFLite's int16 interpolation table read: 512 segments of 128 input steps, linear, rounded to nearest. */
            static inline int32_t lut16(int32_t value, const int16_t* table) {
                const int32_t index = 256 + (value >> 7);
                const int32_t offset = value & 0x7F;
                const int32_t slope = (int16_t)(table[index + 1] - table[index]);
                return (int16_t)(table[index] + ((slope * offset + 64) >> 7));
            }
            """,
        ["tanh_f32"] = """
            /* tanh(x) = (1 - e^-2|x|) / (1 + e^-2|x|), sign restored; no libm. */
            static float tanh_f32(float x) {
                const float a = x < 0.0f ? -x : x;
                const float t = exp_f32(-2.0f * a);
                const float r = (1.0f - t) / (1.0f + t);
                return x < 0.0f ? -r : r;
            }
            """,
        ["exp_f32"] = """
            /* exp(x) for float x without libm: x = k ln2 + r, |r| <= ln2/2, degree-7 Taylor polynomial of exp(r), then
               scaled by 2^k through the exponent bits. Within a few ulp of the C library's expf. */
            static float exp_f32(float x) {
                union { uint32_t u; float f; } scale;
                float k, r, p;
                int ki;
                if (x > 88.0f) x = 88.0f;
                if (x < -87.0f) return 0.0f;
                k = x * 1.44269504f;
                ki = (int)(k < 0.0f ? k - 0.5f : k + 0.5f);
                k = (float)ki;
                r = (x - k * 0.693145752f) - k * 1.42860677e-06f;
                p = 1.0f + r * (1.0f + r * (0.5f + r * (0.166666667f + r * (0.0416666667f + r * (0.00833333333f + r * (0.00138888889f + r * 0.000198412698f))))));
                scale.u = (uint32_t)(ki + 127) << 23;
                return p * scale.f;
            }
            """,
    };
}
