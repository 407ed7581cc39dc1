using System.Reflection;
using Clearhouse.Core.Accounts;

namespace Clearhouse.Core.Tests.Merkle;

/// <summary>
/// <see cref="Position.IsEmpty"/> decides which positions snapshots and state leaves write, so it
/// must be exactly "every field is zero", as <c>Equals(default(Position))</c> was: a field it
/// forgot would leave a non-empty position out of the state root.
/// </summary>
public sealed class PositionTests
{
    [Fact]
    public void A_default_position_is_empty()
    {
        Assert.True(default(Position).IsEmpty);
    }

    [Fact]
    public void Any_one_field_set_makes_a_position_not_empty_as_equality_with_the_default_says()
    {
        var fields = typeof(Position).GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic);
        Assert.NotEmpty(fields);
        foreach (var field in fields)
        {
            object boxed = default(Position);
            field.SetValue(boxed, NonDefault(field.FieldType));
            var position = (Position)boxed;

            Assert.False(position.Equals(default(Position)), $"setting {field.Name} should change the position");
            Assert.False(position.IsEmpty, $"a position with only {field.Name} set must not be empty");
        }
    }

    /// <summary>A value of <paramref name="type"/> that is not its default: 1, true, or a struct whose first field is that.</summary>
    private static object NonDefault(Type type)
    {
        if (type == typeof(bool))
        {
            return true;
        }

        if (type.IsPrimitive)
        {
            return Convert.ChangeType(1, type, System.Globalization.CultureInfo.InvariantCulture);
        }

        object value = Activator.CreateInstance(type)!;
        var inner = type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic).First();
        inner.SetValue(value, NonDefault(inner.FieldType));
        return value;
    }
}
