import io

from openpyxl import load_workbook
from PIL import Image

from baseline.adapters.rich_text import CheckedImage, check_image, image_ids, paragraphs_of, sanitise, text_of
from baseline.adapters.sheets import write_sheet


def test_sanitise_keeps_formatting_and_own_images_only() -> None:
    html = sanitise(
        '<p style="x" onclick="y">一<b>二</b><script>z</script></p>'
        '<img src="/v1/reflection-images/abcdef123456"><img src="data:image/png;base64,AAA"><iframe src="x"></iframe>'
    )
    assert html == '<p>一<b>二</b></p><img src="/v1/reflection-images/abcdef123456"><img>'
    assert text_of(html) == "一二" and text_of("<p>&lt;b&gt;</p>") == "<b>"
    assert paragraphs_of("<p>甲</p><p>乙<br>丙</p>") == ["甲", "乙", "丙"]


def test_images_are_checked_by_content_and_size() -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (10, 20)).save(buffer, format="JPEG")
    assert check_image(buffer.getvalue()) == CheckedImage("image/jpeg", 10, 20)
    gif = io.BytesIO()
    Image.new("RGB", (10, 20)).save(gif, format="GIF")
    assert check_image(gif.getvalue()) == "image_invalid"
    assert check_image(b"\x89PNG\r\n\x1a\n" + b"\x00" * 50) == "image_invalid"
    assert check_image(b"x" * (2 * 1024 * 1024 + 1)) == "image_too_large"


def test_exported_cells_are_text_never_formulas() -> None:
    data = write_sheet("t", ["名称"], [['=HYPERLINK("http://x")'], ["@SUM(A1)"], [3]])
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet is not None
    assert [(c.value, c.data_type) for row in sheet.iter_rows(min_row=2) for c in row] == [
        ('=HYPERLINK("http://x")', "s"),
        ("@SUM(A1)", "s"),
        (3, "n"),
    ]


def test_exported_text_with_control_characters_still_opens_and_shows_the_text() -> None:
    """``cell._value`` wrote "\\x01" into the sheet's XML as is: the workbook did not open."""
    data = write_sheet("研修档案", ["姓名", "单位"], [["张\x01老师", "南沙\x1f一小\uffff"], ["=1+1\x02", 5]])
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet is not None
    assert [[c.value for c in row] for row in sheet.iter_rows(min_row=2)] == [["张老师", "南沙一小"], ["=1+1", 5]]
    assert sheet.cell(3, 1).data_type == "s"


def test_only_the_given_image_ids_keep_their_source() -> None:
    mine, theirs = "/v1/reflection-images/abcdef123456", "/v1/reflection-images/fedcba654321"
    html = f'<p>x</p><img src="{mine}"><img src="{theirs}" alt="a"/><img src="/v1/reflection-images/zz">'
    assert image_ids(html) == {"abcdef123456", "fedcba654321"}
    assert sanitise(html, images={"abcdef123456"}) == f'<p>x</p><img src="{mine}"><img alt="a"><img>'
    assert sanitise(html, images=set()).count("src") == 0
    assert sanitise(html).count("src") == 2  # without ids: every uploaded image (the form check only)
