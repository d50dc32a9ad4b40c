namespace MicroTvm.Sdk.Tests;

/// <summary>Small firmware sources shared by the tests.</summary>
internal static class Projects
{
    public static readonly string MainPrintsAndExits = """
        #include <stdio.h>
        #include "common.h"
        #include "util.h"

        int main(void)
        {
            printf("answer=%d\n", util_answer() + COMMON_OFFSET);
            return 0;
        }
        """;

    /// <summary>Three sources: main.c and util.c include common.h, other.c includes no project header.</summary>
    public static Dictionary<string, string> ThreeSources() => new()
    {
        ["src/main.c"] = MainPrintsAndExits,
        ["src/util.c"] = """
            #include "common.h"
            #include "util.h"
            int util_answer(void) { return 40 + COMMON_OFFSET; }
            """,
        ["src/other.c"] = """
            int other_value(void) { return 7; }
            """,
        ["src/common.h"] = "#define COMMON_OFFSET 1\n",
        ["src/util.h"] = "int util_answer(void);\n",
    };

    public static Dictionary<string, string> SingleMain(string body) => new()
    {
        ["main.c"] = "#include <stdio.h>\n#include \"microtvm/platform.h\"\n\n" + body,
    };
}
