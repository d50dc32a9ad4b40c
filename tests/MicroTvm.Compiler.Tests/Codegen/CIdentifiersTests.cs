using MicroTvm.Compiler.Codegen;
using MicroTvm.Compiler.Diagnostics;

namespace MicroTvm.Compiler.Tests.Codegen;

/// <summary>The one C-identifier rule of model names (the SDK's tasks compile the same source).</summary>
public class CIdentifiersTests
{
    [Theory]
    [InlineData("kws_dscnn", "kws_dscnn")]
    [InlineData("my-model.v2", "my_model_v2")]
    [InlineData("1net", "m_1net")]
    [InlineData("caf\u00e9", "caf_")]
    public void Names_become_C_identifiers(string name, string expected)
    {
        Assert.Equal(expected, CIdentifiers.From(name));
        Assert.True(CIdentifiers.IsValid(expected));
        Assert.Equal(expected, ModelCompiler.CIdentifier(name));
    }

    [Theory]
    [InlineData("")]
    [InlineData("__")]
    [InlineData("--")]
    public void A_name_without_a_letter_or_digit_is_MTVM2103(string name)
    {
        Assert.False(CIdentifiers.IsValid(CIdentifiers.From(name)));
        Assert.Equal(ErrorCodes.InvalidModelName, Assert.Throws<CompilerException>(() => ModelCompiler.CIdentifier(name)).Code);
    }

    [Theory]
    [InlineData("9lives", false)]
    [InlineData("a b", false)]
    [InlineData("_x", true)]
    public void IsValid_is_the_C_rule(string name, bool valid) => Assert.Equal(valid, CIdentifiers.IsValid(name));
}
