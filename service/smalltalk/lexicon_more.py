"""Small-talk phrases in languages beyond the default ``INGEST_LANGUAGES`` that the detector
reports whatever is configured (Turkish, Vietnamese, Indonesian: ``knowledge.language.ALWAYS_ALSO``)
or that no configured language's script covers (Arabic): data only, merged into
``service.smalltalk.lexicon.LEXICON`` (which keeps the rules of writing them)."""

from __future__ import annotations

from service.smalltalk.kinds import Kind

BEYOND_DEFAULTS: dict[str, dict[Kind, tuple[str, ...]]] = {
    "tr": {
        "greeting": (
            "merhaba", "merhabalar", "selam", "selamlar", "günaydın", "iyi günler", "iyi akşamlar",
            "kimse var mı", "bir sorum var", "yardım eder misiniz", "yardım lütfen",
        ),
        "how_are_you": ("nasılsınız", "nasılsın", "naber", "ne haber", "iyi misiniz"),
        "thanks": (
            "teşekkürler", "teşekkür ederim", "çok teşekkürler", "çok teşekkür ederim", "sağ olun",
            "sağol", "sağolun", "çok sağ olun", "eyvallah", "yardımınız için teşekkürler",
        ),
        "goodbye": (
            "hoşça kalın", "hoşçakal", "güle güle", "görüşürüz", "iyi geceler", "bu kadar",
            "başka bir şey yok", "hayır teşekkürler",
        ),
        "ack": ("tamam", "tamamdır", "anladım", "peki", "olur", "harika"),
    },
    "vi": {
        "greeting": (
            "xin chào", "chào bạn", "chào shop", "chào anh", "chào chị", "có ai không", "tôi có câu hỏi",
            "giúp tôi với",
        ),
        "how_are_you": ("bạn khỏe không", "bạn có khỏe không"),
        "thanks": (
            "cảm ơn", "cám ơn", "cảm ơn bạn", "cảm ơn nhiều", "cám ơn nhiều", "cảm ơn shop", "xin cảm ơn",
        ),
        "goodbye": ("tạm biệt", "chào tạm biệt", "hẹn gặp lại", "vậy thôi", "không còn gì nữa"),
        "ack": ("được rồi", "hiểu rồi", "tôi hiểu rồi"),
    },
    "id": {
        "greeting": (
            "halo", "hai", "selamat pagi", "selamat siang", "selamat sore", "selamat malam", "permisi",
            "ada orang", "saya mau tanya", "mau tanya", "saya ada pertanyaan", "tolong bantu saya",
            "bisa bantu saya",
        ),
        "how_are_you": ("apa kabar", "gimana kabarnya", "bagaimana kabarmu"),
        "thanks": (
            "terima kasih", "terimakasih", "makasih", "makasih banyak", "terima kasih banyak", "trims",
            "terima kasih atas bantuannya", "makasih kak",
        ),
        "goodbye": (
            "sampai jumpa", "selamat tinggal", "dadah", "sudah itu saja", "itu saja", "tidak ada lagi",
        ),
        "ack": ("oke", "baik", "baiklah", "siap", "mengerti", "saya mengerti", "paham"),
    },
    "ar": {
        "greeting": (
            "مرحبا", "أهلا", "اهلا", "أهلا وسهلا", "السلام عليكم", "سلام عليكم", "صباح الخير", "مساء الخير",
            "هل يوجد أحد", "عندي سؤال", "لدي سؤال",
        ),
        "how_are_you": ("كيف حالك", "كيف الحال", "كيفك"),
        "thanks": (
            "شكرا", "شكرا لك", "شكرا جزيلا", "مشكور", "يعطيك العافية", "جزاك الله خيرا",
            "شكرا على المساعدة",
        ),
        "goodbye": ("مع السلامة", "وداعا", "إلى اللقاء", "الى اللقاء", "هذا كل شيء", "لا شكرا"),
        "ack": ("حسنا", "تمام", "طيب", "فهمت", "ممتاز"),
    },
}  # fmt: skip
