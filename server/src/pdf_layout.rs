//! A small page layout for generated documents: text in a CJK font, rules,
//! boxes and dots placed on A4 pages, then written as a PDF by `krilla`,
//! which embeds only the glyphs a document uses (a lineage PDF carries a
//! few dozen kilobytes of the 5 MB font).
//!
//! Layout and output are apart: [`Layout`] fills pages with [`Op`]s and
//! breaks pages itself; [`Layout::finish`] numbers the pages (which needs
//! their count) and writes the file.
//!
//! Text is set in WenQuanYi Micro Hei Mono (Apache-2.0, shipped in
//! `server/fonts/`), measured with the font's own advance widths (`skrifa`,
//! which krilla already uses), so columns line up and nothing overflows.

use std::sync::OnceLock;

use krilla::Document;
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point};
use krilla::metadata::{DateTime, Metadata};
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::surface::Surface;
use krilla::text::{Font, TextDirection};
use skrifa::charmap::Charmap;
use skrifa::instance::{LocationRef, Size};
use skrifa::metrics::GlyphMetrics;
use skrifa::{FontRef, MetadataProvider};

/// A4 in points.
pub(crate) const PAGE_WIDTH: f32 = 595.0;
pub(crate) const PAGE_HEIGHT: f32 = 842.0;
pub(crate) const MARGIN: f32 = 36.0;
/// Room kept at the bottom of each page for its footer.
const FOOTER: f32 = 24.0;

/// WenQuanYi Micro Hei: face 0 is proportional, face 1 monospaced.
static FONT_FILE: &[u8] = include_bytes!("../fonts/wqy-microhei.ttc");

/// The faces documents use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Face {
    /// Headings: proportional, so never measured.
    Heading,
    /// Everything measured: monospaced.
    Text,
}

fn font(face: Face) -> Font {
    static FONTS: OnceLock<(Font, Font)> = OnceLock::new();
    let (heading, text) = FONTS.get_or_init(|| {
        let load =
            |index| Font::new(FONT_FILE.into(), index).expect("the shipped font has faces 0 and 1");
        (load(0), load(1))
    });
    match face {
        Face::Heading => heading.clone(),
        Face::Text => text.clone(),
    }
}

/// An sRGB colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rgb(pub u8, pub u8, pub u8);

pub(crate) const BLACK: Rgb = Rgb(0x21, 0x21, 0x21);
pub(crate) const GREY: Rgb = Rgb(0x75, 0x75, 0x75);
pub(crate) const RULE: Rgb = Rgb(0xbd, 0xbd, 0xbd);
pub(crate) const SHADE: Rgb = Rgb(0xf3, 0xf4, 0xf6);

/// One thing drawn on a page; `y` grows downwards from the top edge.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Op {
    /// Text whose baseline starts at `(x, y)`.
    Text {
        x: f32,
        y: f32,
        size: f32,
        face: Face,
        color: Rgb,
        text: String,
    },
    Line {
        from: (f32, f32),
        to: (f32, f32),
        width: f32,
        color: Rgb,
    },
    Rect {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        color: Rgb,
    },
    Dot {
        x: f32,
        y: f32,
        r: f32,
        color: Rgb,
    },
}

/// Advance widths of [`Face::Text`], read from the font itself.
fn metrics() -> &'static (Charmap<'static>, GlyphMetrics<'static>) {
    static METRICS: OnceLock<(Charmap<'static>, GlyphMetrics<'static>)> = OnceLock::new();
    METRICS.get_or_init(|| {
        let font = FontRef::from_index(FONT_FILE, 1).expect("the shipped font has face 1");
        // At 1 pixel per em, advances come out in ems.
        let metrics = font.glyph_metrics(Size::new(1.0), LocationRef::default());
        (font.charmap(), metrics)
    })
}

/// Width of `text` in [`Face::Text`] at `size`.
pub(crate) fn text_width(text: &str, size: f32) -> f32 {
    let (charmap, metrics) = metrics();
    text.chars()
        .map(|c| {
            let glyph = charmap.map(c).unwrap_or_default();
            metrics.advance_width(glyph).unwrap_or(0.5)
        })
        .sum::<f32>()
        * size
}

/// Breaks `text` into lines no wider than `max` at `size`: at the last
/// space of the line when it has one (Latin words stay whole), else
/// between any two characters (CJK has no spaces). Explicit
/// newlines are kept.
pub(crate) fn wrap(text: &str, max: f32, size: f32) -> Vec<String> {
    let mut lines = Vec::new();
    for paragraph in text.split('\n') {
        let mut line = String::new();
        let mut width = 0.0;
        for c in paragraph.chars() {
            let w = text_width(c.encode_utf8(&mut [0; 4]), size);
            if width + w > max && !line.is_empty() {
                let cut = line.rfind(' ').filter(|&i| i > 0);
                let rest = match cut {
                    Some(i) => {
                        let rest = line[i + 1..].to_string();
                        line.truncate(i);
                        rest
                    }
                    None => String::new(),
                };
                lines.push(std::mem::replace(&mut line, rest));
                width = text_width(&line, size);
            }
            line.push(c);
            width += w;
        }
        lines.push(line);
    }
    lines
}

/// A column of a [`Table`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Column {
    pub title: &'static str,
    pub width: f32,
    /// Right-aligned (amounts, counts).
    pub right: bool,
}

impl Column {
    pub(crate) const fn new(title: &'static str, width: f32, right: bool) -> Self {
        Self {
            title,
            width,
            right,
        }
    }
}

/// A table whose header repeats on every page it runs over.
#[derive(Debug, Clone)]
pub(crate) struct Table {
    pub columns: Vec<Column>,
    pub size: f32,
}

/// Space between a cell's text and its column's edges.
const PAD: f32 = 3.0;

impl Table {
    fn line_height(&self) -> f32 {
        self.size * 1.35
    }

    /// Splits each cell's text into the lines that fit its column.
    pub(crate) fn cells(&self, texts: &[String]) -> Vec<Vec<String>> {
        texts
            .iter()
            .zip(&self.columns)
            .map(|(t, c)| wrap(t, c.width - 2.0 * PAD, self.size))
            .collect()
    }

    /// The height of a row of `cells`: its tallest cell.
    fn height(&self, cells: &[Vec<String>]) -> f32 {
        let lines = cells.iter().map(Vec::len).max().unwrap_or(1).max(1);
        lines as f32 * self.line_height() + 2.0 * PAD
    }

    fn header(&self, layout: &mut Layout) {
        let cells = self.cells(&self.titles());
        let h = self.height(&cells);
        layout.ensure(h + self.line_height() * 2.0);
        let y = layout.y;
        layout.push(Op::Rect {
            x: MARGIN,
            y,
            w: PAGE_WIDTH - 2.0 * MARGIN,
            h,
            color: Rgb(0xe0, 0xe7, 0xef),
        });
        self.texts(layout, y, &cells, BLACK);
        layout.y += h;
    }

    fn titles(&self) -> Vec<String> {
        self.columns.iter().map(|c| c.title.to_string()).collect()
    }

    fn texts(&self, layout: &mut Layout, top: f32, cells: &[Vec<String>], color: Rgb) {
        let mut x = MARGIN;
        for (lines, column) in cells.iter().zip(&self.columns) {
            for (i, line) in lines.iter().enumerate() {
                let dx = if column.right {
                    column.width - PAD - text_width(line, self.size)
                } else {
                    PAD
                };
                layout.push(Op::Text {
                    x: x + dx,
                    y: top + PAD + self.size + i as f32 * self.line_height(),
                    size: self.size,
                    face: Face::Text,
                    color,
                    text: line.clone(),
                });
            }
            x += column.width;
        }
    }

    /// Lays the table out: its header, then each row (cells of text),
    /// starting a new page, with the header again, where a row would not fit.
    pub(crate) fn draw(&self, layout: &mut Layout, rows: &[Vec<String>]) {
        self.header(layout);
        for (n, row) in rows.iter().enumerate() {
            let cells = self.cells(row);
            let h = self.height(&cells);
            if layout.y + h > layout.bottom() {
                layout.new_page();
                self.header(layout);
            }
            let y = layout.y;
            if n % 2 == 1 {
                layout.push(Op::Rect {
                    x: MARGIN,
                    y,
                    w: PAGE_WIDTH - 2.0 * MARGIN,
                    h,
                    color: SHADE,
                });
            }
            self.texts(layout, y, &cells, BLACK);
            layout.y += h;
        }
        layout.y += 6.0;
    }
}

/// Pages being filled, top to bottom.
#[derive(Debug)]
pub(crate) struct Layout {
    pages: Vec<Vec<Op>>,
    /// Where the next thing goes on the current page.
    pub y: f32,
}

impl Layout {
    pub(crate) fn new() -> Self {
        Self {
            pages: vec![Vec::new()],
            y: MARGIN,
        }
    }

    /// The lowest `y` content may reach.
    pub(crate) fn bottom(&self) -> f32 {
        PAGE_HEIGHT - MARGIN - FOOTER
    }

    pub(crate) fn push(&mut self, op: Op) {
        self.pages.last_mut().expect("a page").push(op);
    }

    pub(crate) fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = MARGIN;
    }

    /// Starts a new page unless `height` fits below the cursor.
    pub(crate) fn ensure(&mut self, height: f32) {
        if self.y + height > self.bottom() {
            self.new_page();
        }
    }

    /// One line of text at the left margin (wrapped if too long), moving
    /// the cursor below it.
    pub(crate) fn line(&mut self, text: &str, size: f32, face: Face, color: Rgb) {
        let lines = match face {
            Face::Text => wrap(text, PAGE_WIDTH - 2.0 * MARGIN, size),
            Face::Heading => vec![text.to_string()],
        };
        for line in lines {
            self.ensure(size * 1.4);
            self.y += size;
            self.push(Op::Text {
                x: MARGIN,
                y: self.y,
                size,
                face,
                color,
                text: line,
            });
            self.y += size * 0.4;
        }
    }

    /// A section heading with a rule under it.
    pub(crate) fn heading(&mut self, text: &str) {
        self.ensure(60.0);
        self.y += 8.0;
        self.line(text, 12.0, Face::Heading, BLACK);
        self.rule();
    }

    /// A thin rule across the page.
    pub(crate) fn rule(&mut self) {
        self.y += 2.0;
        self.push(Op::Line {
            from: (MARGIN, self.y),
            to: (PAGE_WIDTH - MARGIN, self.y),
            width: 0.5,
            color: RULE,
        });
        self.y += 6.0;
    }

    /// Numbers the pages (`footer(page, pages)` on each) and writes the PDF.
    pub(crate) fn finish(
        mut self,
        title: &str,
        created: chrono::DateTime<chrono::Utc>,
        footer: impl Fn(usize, usize) -> String,
    ) -> Result<Vec<u8>, String> {
        let pages = self.pages.len();
        for (i, page) in self.pages.iter_mut().enumerate() {
            page.push(Op::Text {
                x: MARGIN,
                y: PAGE_HEIGHT - MARGIN + 6.0,
                size: 7.0,
                face: Face::Text,
                color: GREY,
                text: footer(i + 1, pages),
            });
        }
        let mut document = Document::new();
        use chrono::{Datelike, Timelike};
        document.set_metadata(
            Metadata::new()
                .title(title.to_string())
                .creator("ordergraph".to_string())
                .language("zh-CN".to_string())
                .creation_date(
                    DateTime::new(created.year() as u16)
                        .month(created.month() as u8)
                        .day(created.day() as u8)
                        .hour(created.hour() as u8)
                        .minute(created.minute() as u8)
                        .second(created.second() as u8)
                        .utc_offset_hour(0),
                ),
        );
        let settings = PageSettings::from_wh(PAGE_WIDTH, PAGE_HEIGHT).expect("A4 is a valid size");
        for ops in &self.pages {
            let mut page = document.start_page_with(settings.clone());
            let mut surface = page.surface();
            for op in ops {
                draw(&mut surface, op);
            }
            surface.finish();
            page.finish();
        }
        document.finish().map_err(|e| format!("{e:?}"))
    }
}

fn fill(color: Rgb) -> Fill {
    Fill {
        paint: rgb::Color::new(color.0, color.1, color.2).into(),
        opacity: NormalizedF32::ONE,
        rule: Default::default(),
    }
}

fn draw(surface: &mut Surface<'_>, op: &Op) {
    match op {
        Op::Text {
            x,
            y,
            size,
            face,
            color,
            text,
        } => {
            surface.set_fill(Some(fill(*color)));
            surface.set_stroke(None);
            surface.draw_text(
                Point::from_xy(*x, *y),
                font(*face),
                *size,
                text,
                false,
                TextDirection::Auto,
            );
        }
        Op::Line {
            from,
            to,
            width,
            color,
        } => {
            let mut path = PathBuilder::new();
            path.move_to(from.0, from.1);
            path.line_to(to.0, to.1);
            let Some(path) = path.finish() else { return };
            surface.set_fill(None);
            surface.set_stroke(Some(Stroke {
                paint: rgb::Color::new(color.0, color.1, color.2).into(),
                width: *width,
                ..Default::default()
            }));
            surface.draw_path(&path);
        }
        Op::Rect { x, y, w, h, color } => {
            let Some(rect) = krilla::geom::Rect::from_xywh(*x, *y, *w, *h) else {
                return;
            };
            let mut path = PathBuilder::new();
            path.push_rect(rect);
            let Some(path) = path.finish() else { return };
            surface.set_stroke(None);
            surface.set_fill(Some(fill(*color)));
            surface.draw_path(&path);
        }
        Op::Dot { x, y, r, color } => {
            // A circle as four cubic Béziers (the usual 0.5523 handle length).
            let (x, y, r) = (*x, *y, *r);
            let k = 0.5523 * r;
            let mut path = PathBuilder::new();
            path.move_to(x + r, y);
            path.cubic_to(x + r, y + k, x + k, y + r, x, y + r);
            path.cubic_to(x - k, y + r, x - r, y + k, x - r, y);
            path.cubic_to(x - r, y - k, x - k, y - r, x, y - r);
            path.cubic_to(x + k, y - r, x + r, y - k, x + r, y);
            path.close();
            let Some(path) = path.finish() else { return };
            surface.set_stroke(None);
            surface.set_fill(Some(fill(*color)));
            surface.draw_path(&path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_come_from_the_font() {
        assert_eq!(text_width("青岛", 10.0), 2.0 * text_width("青", 10.0));
        assert!((text_width("青", 1.0) - 1.0).abs() < 0.01, "CJK is one em");
        // Monospaced: every Latin character alike, narrower than CJK.
        assert_eq!(text_width("0", 1.0), text_width("W", 1.0));
        assert!(text_width("0", 1.0) < text_width("青", 1.0));
        assert_eq!(text_width("", 10.0), 0.0);
    }

    #[test]
    fn wrap_breaks_cjk_anywhere_and_latin_at_spaces() {
        assert_eq!(
            wrap("玻尿酸保湿精华液", 40.0, 10.0),
            ["玻尿酸保", "湿精华液"]
        );
        assert_eq!(
            wrap("token expired again", 60.0, 10.0),
            ["token", "expired", "again"]
        );
        assert_eq!(wrap("a\nb", 100.0, 10.0), ["a", "b"]);
        assert_eq!(wrap("", 100.0, 10.0), [""]);
        // A character wider than the column still goes somewhere.
        assert_eq!(wrap("青岛", 5.0, 10.0), ["青", "岛"]);
    }

    #[test]
    fn tables_break_pages_and_repeat_their_header() {
        let table = Table {
            columns: vec![
                Column {
                    title: "订单",
                    width: 100.0,
                    right: false,
                },
                Column {
                    title: "金额",
                    width: 60.0,
                    right: true,
                },
            ],
            size: 8.0,
        };
        let rows: Vec<Vec<String>> = (0..200)
            .map(|i| vec![format!("T{i}"), format!("{i}.00")])
            .collect();
        let mut layout = Layout::new();
        table.draw(&mut layout, &rows);
        assert!(layout.pages.len() > 2);
        for page in &layout.pages {
            let headers = page
                .iter()
                .filter(|op| matches!(op, Op::Text { text, .. } if text == "订单"))
                .count();
            assert_eq!(headers, 1);
            for op in page {
                if let Op::Text { y, .. } = op {
                    assert!(*y <= layout.bottom() + 1.0, "text below the footer line");
                }
            }
        }
        let texts: Vec<&str> = layout
            .pages
            .iter()
            .flatten()
            .filter_map(|op| match op {
                Op::Text { text, .. } if text.starts_with('T') => Some(text.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(texts.len(), 200, "every row once");
        // Right-aligned amounts end at the column's edge.
        let amount = layout.pages[0]
            .iter()
            .find_map(|op| match op {
                Op::Text { x, text, size, .. } if text == "0.00" => {
                    Some(x + text_width(text, *size))
                }
                _ => None,
            })
            .expect("the first amount");
        assert!((amount - (MARGIN + 160.0 - PAD)).abs() < 0.01);
    }

    #[test]
    fn a_document_embeds_only_the_glyphs_it_uses() {
        let mut layout = Layout::new();
        layout.line("客户档案 MC7F3K2Q9", 12.0, Face::Text, BLACK);
        layout.new_page();
        layout.line("第二页", 12.0, Face::Heading, BLACK);
        let pdf = layout
            .finish("t", chrono::Utc::now(), |p, n| format!("{p}/{n}"))
            .expect("a PDF");
        assert!(pdf.starts_with(b"%PDF-"));
        // The font is subset to the glyphs used, not embedded whole (5 MB).
        assert!(pdf.len() < 100_000, "{} bytes", pdf.len());
    }
}
